/**
 * Asking libvirt which CPU modes it offers KVM guests (`virsh domcapabilities --virttype kvm`), as
 * advice: no answer (virsh missing, libvirt down, a driver without domcapabilities) is "cannot
 * check", never an error.
 */
import { libvirtErrors } from '../virsh/framing.js';
import { listedCpuModes } from '../virsh/domcapabilities.js';
import type { CommandRunner } from './run-command.js';

/**
 * The URI asked when the caller names none: the local system libvirtd, which runs KVM guests.
 *
 * @example
 * await readLibvirtCpuModes(runCommand, DEFAULT_HOST_URI);
 */
export const DEFAULT_HOST_URI = 'qemu:///system';

/**
 * libvirt's answer for the CPU modes that give a guest nested virtualization.
 *
 * @example
 * const modes: LibvirtCpuModes = { uri: 'qemu:///system', hostModel: true, hostPassthrough: true, error: undefined };
 */
export interface LibvirtCpuModes {
  readonly uri: string;
  /** `<mode name='host-model' supported='yes'>`; `undefined` when libvirt gave no answer. */
  readonly hostModel: boolean | undefined;
  readonly hostPassthrough: boolean | undefined;
  /** Why there is no answer: libvirt's own last message. */
  readonly error: string | undefined;
}

/**
 * Reads `host-model` and `host-passthrough` support from a `domcapabilities` document; a mode the
 * document does not list, or a document that cannot be read, is `undefined`.
 *
 * @example
 * parseCpuModes("<domainCapabilities><cpu><mode name='host-model' supported='yes'/></cpu></domainCapabilities>");
 * // { hostModel: true, hostPassthrough: undefined }
 */
export function parseCpuModes(xml: string): { hostModel: boolean | undefined; hostPassthrough: boolean | undefined } {
  let listed: ReadonlyMap<string, boolean>;
  try {
    listed = listedCpuModes(xml);
  } catch {
    listed = new Map();
  }
  return { hostModel: listed.get('host-model'), hostPassthrough: listed.get('host-passthrough') };
}

/**
 * The most specific message in a command's stderr: libvirt's last error (see {@link libvirtErrors}),
 * or, from a program that is not virsh (modprobe) or a virsh that never reached libvirt, the last
 * line it printed.
 *
 * @example
 * lastMessage('error: failed to connect to the hypervisor\nerror: Failed to connect socket\n'); // 'Failed to connect socket'
 * lastMessage('modprobe: FATAL: Module kvm_intel is in use.\n'); // 'modprobe: FATAL: Module kvm_intel is in use.'
 */
export function lastMessage(stderr: string): string {
  const errors = libvirtErrors(stderr);
  if (errors.length > 0) return errors[errors.length - 1] ?? '';
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines[lines.length - 1] ?? '';
}

/**
 * Asks libvirt at `uri` for its kvm domcapabilities through `run`; never throws.
 *
 * @example
 * const modes = await readLibvirtCpuModes(runCommand, 'qemu:///system');
 */
export async function readLibvirtCpuModes(run: CommandRunner, uri: string): Promise<LibvirtCpuModes> {
  const noAnswer = (error: string): LibvirtCpuModes => ({ uri, hostModel: undefined, hostPassthrough: undefined, error });
  let result;
  try {
    result = await run('virsh', ['-c', uri, 'domcapabilities', '--virttype', 'kvm']);
  } catch (error) {
    return noAnswer(error instanceof Error ? error.message : String(error));
  }
  if (result.exitCode !== 0) return noAnswer(lastMessage(result.stderr) || `virsh exited with ${result.exitCode}`);
  const modes = parseCpuModes(result.stdout);
  if (modes.hostModel === undefined && modes.hostPassthrough === undefined) return noAnswer('virsh domcapabilities listed no CPU modes');
  return { uri, ...modes, error: undefined };
}
