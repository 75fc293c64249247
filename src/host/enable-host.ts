/**
 * `enableHost`: the seed's "Enable nested virtualization" steps. Writes `options MODULE nested=1` to
 * `/etc/modprobe.d/kvm.conf` (atomically, only when the bytes change, through a symlink to its
 * target), reports settings that would override it (and comments them out when asked), and reloads
 * the module when asked, only while nothing holds it. Refuses a kernel that lacks the fixes of a known
 * escape through nesting. A refused or dry run changes nothing.
 */
import { setHostNested, type HostChangeOptions, type HostChangeResult } from './set-host-nested.js';

/**
 * What `enableHost` needs from the world, and what it is asked to do.
 *
 * @example
 * const options: EnableHostOptions = { root: '/', run: runCommand, dryRun: true, reload: true };
 */
export interface EnableHostOptions extends HostChangeOptions {
  /** Enable nesting even on a kernel that lacks the fixes of a known escape (see `KERNEL_ADVISORIES`). */
  readonly allowVulnerableKernel?: boolean;
}

/**
 * What `enableHost` did, or in a dry run would do.
 *
 * @example
 * const result: EnableHostResult = await enableHost({ root: '/', run: runCommand, dryRun: true });
 */
export type EnableHostResult = HostChangeResult;

/**
 * Enables nested virtualization on the host under `root`, persistently and (with `reload`) now.
 * Throws `NOT_PERMITTED` when not root (except for a dry run), `HOST_UNSUPPORTED` off x86 or without
 * the vmx/svm flag, `KERNEL_VULNERABLE` on a kernel without the fixes (unless
 * `allowVulnerableKernel`), `GuestsRunningError` when a reload is due while the kernel counts the
 * module in use, and `FILE_UNWRITABLE` when a file cannot be written: then the files this run wrote
 * before it are put back, so that nothing is changed. The refusals carry the run's `report`.
 *
 * @example
 * const plan = await enableHost({ root: '/', run: runCommand, dryRun: true, reload: true });
 * const result = await enableHost({ root: '/', run: runCommand, reload: true });
 */
export async function enableHost(options: EnableHostOptions): Promise<EnableHostResult> {
  return setHostNested(options, 'on', options.allowVulnerableKernel ?? false);
}
