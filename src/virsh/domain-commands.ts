/**
 * Typed virsh commands that read a guest's state and definition and define it: one function per virsh
 * command, its options named as virsh names them. The commands that start, stop and remove guests are
 * in `lifecycle-commands.ts`, QMP in `qemu-monitor.ts`.
 */

import { VirshError, VirtNestedError } from '../errors.js';
import { flag, guestArgs } from './command-args.js';
import { libvirtErrors } from './framing.js';
import type { VirshRunOptions, VirshRunner } from './runner.js';

export type { VirshRunner } from './runner.js';

/**
 * A guest's state as `virsh domstate` prints it. libvirt may add states; an unknown one is returned
 * as printed.
 *
 * @example
 * const state: DomainState = await session.domstate('web-1'); // 'shut off'
 */
export type DomainState = 'no state' | 'running' | 'idle' | 'paused' | 'in shutdown' | 'shut off' | 'crashed' | 'pmsuspended';

/**
 * Options of `dumpxml`; both default to false, as in virsh.
 *
 * @example
 * await session.dumpxml('web-1', { inactive: true, securityInfo: true });
 */
export interface DumpxmlOptions extends VirshRunOptions {
  /** `--inactive`: the persistent definition, not the live one (where QEMU expanded `host-model`). */
  inactive?: boolean;
  /** `--security-info`: keep secrets such as a VNC/SPICE `passwd`, which a plain dumpxml drops. */
  securityInfo?: boolean;
}

/**
 * Options of `define`.
 *
 * @example
 * await session.define('/tmp/web-1.xml', { validate: true });
 */
export interface DefineOptions extends VirshRunOptions {
  /** `--validate` against libvirt's schemas; default true. */
  validate?: boolean;
}

/**
 * Options of `listGuests`.
 *
 * @example
 * await session.listGuests({ all: true, persistent: true });
 */
export interface ListGuestsOptions extends VirshRunOptions {
  /** `--all`: running and inactive guests (virsh lists running ones only by default). */
  all?: boolean;
  /** `--state-running`, `--state-paused`, `--state-shutoff` or `--state-other`. */
  state?: 'running' | 'paused' | 'shutoff' | 'other';
  /** `--persistent`: only guests with a persistent definition. */
  persistent?: boolean;
  /** `--transient`: only guests without one. */
  transient?: boolean;
}

/**
 * `virsh domstate --domain GUEST`.
 *
 * @example
 * if ((await domstate(session, 'web-1')) !== 'shut off') throw new Error('shut it off first');
 */
export async function domstate(runner: VirshRunner, guest: string, options: VirshRunOptions = {}): Promise<DomainState> {
  const { stdout } = await runner.run(guestArgs('domstate', guest), options);
  return stdout.replace(/\n+$/, '') as DomainState;
}

/**
 * `virsh dumpxml --domain GUEST [--inactive] [--security-info]`: the XML byte for byte as virsh prints
 * it. To edit a definition, pass both options (see PRODUCT.md, "Traps").
 *
 * @example
 * const xml = await dumpxml(session, 'web-1', { inactive: true, securityInfo: true });
 */
export async function dumpxml(runner: VirshRunner, guest: string, options: DumpxmlOptions = {}): Promise<string> {
  const args = [...guestArgs('dumpxml', guest), ...flag(options.inactive, '--inactive'), ...flag(options.securityInfo, '--security-info')];
  return (await runner.run(args, options)).stdout;
}

/**
 * libvirt's reasons for refusing a definition, without virsh's "Failed to define domain from FILE"
 * (the file is a temp file of ours, usually gone by the time anyone reads the message).
 *
 * @example
 * defineRefusalReasons(stderr) // ['XML document failed to validate against schema: …']
 */
export function defineRefusalReasons(stderr: string): string[] {
  return libvirtErrors(stderr).filter((message) => !message.startsWith('Failed to define domain from'));
}

/**
 * `virsh define --file FILE [--validate]`. Throws {@link VirshError} `DEFINE_FAILED` with libvirt's
 * reason when libvirt refuses the definition.
 *
 * @example
 * await define(session, '/var/lib/virt-nested/web-1.xml'); // with --validate
 */
export async function define(runner: VirshRunner, file: string, options: DefineOptions = {}): Promise<void> {
  if (file === '') throw new VirtNestedError('USAGE', 'virsh define needs a file, got an empty path');
  const args = ['define', '--file', file, ...flag(options.validate !== false, '--validate')];
  try {
    await runner.run(args, options);
  } catch (error) {
    // virsh going away mid-command is not libvirt's answer: the define may or may not have landed
    if (!(error instanceof VirshError) || error.code !== 'VIRSH_FAILED' || error.sessionEnded) throw error;
    const reasons = defineRefusalReasons(error.stderr);
    const reason = reasons.length > 0 ? reasons.join(': ') : error.message;
    throw new VirshError('DEFINE_FAILED', `libvirt at ${runner.uri} refused the definition in ${file}: ${reason}`, {
      command: error.command,
      stderr: error.stderr,
      cause: error,
    });
  }
}

/**
 * `virsh list --name [--all] [--state-…] [--persistent] [--transient]`: guest names in virsh's order.
 *
 * @example
 * const stopped = await listGuests(session, { state: 'shutoff', persistent: true });
 */
export async function listGuests(runner: VirshRunner, options: ListGuestsOptions = {}): Promise<string[]> {
  const args = [
    'list',
    '--name',
    ...flag(options.all, '--all'),
    ...(options.state === undefined ? [] : [`--state-${options.state}`]),
    ...flag(options.persistent, '--persistent'),
    ...flag(options.transient, '--transient'),
  ];
  const { stdout } = await runner.run(args, options);
  return stdout.split('\n').filter((name) => name !== '');
}
