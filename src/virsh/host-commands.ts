/**
 * virsh as one command at a time through the host layer's injected {@link CommandRunner} (`virsh -c URI
 * …`), for the few questions the host layer asks libvirt. Each answers "cannot say" rather than throw:
 * a libvirt that cannot be asked never decides anything on the host.
 */
import type { CommandRunner } from '../host/run-command.js';
import { listedCpuModes } from './domcapabilities-xml.js';
import { libvirtErrors } from './framing.js';

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

/**
 * libvirt's names for its active guests at `uri`, or why it could not say.
 *
 * @example
 * const named: GuestNames = { guests: ['web-1'], error: undefined };
 */
export interface GuestNames {
  /** Running, paused, or in any other state but shut off (`virsh list --name`). */
  readonly guests: readonly string[];
  /** Set when libvirt could not be asked (virsh missing, libvirtd stopped). */
  readonly error: string | undefined;
}

/**
 * Asks libvirt at `uri` for the names of its active guests; never throws.
 *
 * @example
 * const { guests } = await listRunningGuests(runCommand, 'qemu:///system'); // ['web-1']
 */
export async function listRunningGuests(run: CommandRunner, uri: string): Promise<GuestNames> {
  // Not `--state-running`: a paused guest still holds /dev/kvm.
  let result;
  try {
    result = await run('virsh', ['-c', uri, 'list', '--name']);
  } catch (error) {
    return { guests: [], error: error instanceof Error ? error.message : String(error) };
  }
  if (result.exitCode !== 0) return { guests: [], error: lastMessage(result.stderr) || `virsh exited with ${result.exitCode}` };
  return { guests: result.stdout.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line !== ''), error: undefined };
}
