/**
 * `disableHost`: the way back. Persists `nested=0` for the host's KVM module exactly as `enableHost`
 * persists `nested=1` (atomically, idempotently, conflicts named and, when asked, commented out), and
 * with `reload` reloads the module under the same guard, so that `check-host` and `modprobe -c` agree.
 */
import { setHostNested, type HostChangeOptions, type HostChangeResult } from './set-host-nested.js';

/**
 * What `disableHost` needs from the world, and what it is asked to do.
 *
 * @example
 * const options: DisableHostOptions = { root: '/', run: runCommand, reload: true };
 */
export type DisableHostOptions = HostChangeOptions;

/**
 * What `disableHost` did, or in a dry run would do.
 *
 * @example
 * const result: DisableHostResult = await disableHost({ root: '/', run: runCommand, dryRun: true });
 */
export type DisableHostResult = HostChangeResult;

/**
 * Turns nested virtualization off on the host under `root`: `options MODULE nested=0` in
 * `/etc/modprobe.d/kvm.conf` and, with `reload`, now (a module that is not loaded gets it when it
 * loads). Needs no vmx/svm flag and no libvirt. Throws as `enableHost` does, but never for the kernel.
 *
 * @example
 * const result = await disableHost({ root: '/', run: runCommand, reload: true });
 * console.log(result.ok, result.nested); // true '0'
 */
export async function disableHost(options: DisableHostOptions): Promise<DisableHostResult> {
  return setHostNested(options, 'off');
}
