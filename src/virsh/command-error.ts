/**
 * Turns a failed virsh command into a typed {@link VirshError}: a missing guest, a guest that is not
 * running, or else `VIRSH_FAILED` with libvirt's own message.
 */

import { VirshError } from '../errors.js';
import { libvirtErrors } from './framing.js';
import { virshHint } from './hint.js';

/**
 * What virsh reports as `error:` although the command went on: the connection dropped and virsh
 * reconnected before running it.
 */
const CONNECTION_NOTICE = /^(Disconnected from .* due to |Reconnected to the hypervisor$)/;

/**
 * Whether a command's stderr says it failed: an `error:` line other than virsh's notice that it lost the
 * connection and reconnected.
 *
 * @example
 * commandFailed("error: Disconnected from qemu:///system due to end of file\nerror: Reconnected to the hypervisor\n"); // → false
 */
export function commandFailed(stderr: string): boolean {
  return libvirtErrors(stderr).some((message) => !CONNECTION_NOTICE.test(message));
}

/**
 * The guest a command names: the value of `--domain NAME` or `--domain=NAME`.
 *
 * @example
 * guestArgument(['dumpxml', '--domain', 'web-1', '--inactive']); // → 'web-1'
 */
export function guestArgument(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index];
    if (argument === '--domain') return args[index + 1];
    if (argument?.startsWith('--domain=')) return argument.slice('--domain='.length);
  }
  return undefined;
}

/**
 * The error for a command whose stderr held `error:` lines. `command` is the argv that reproduces it
 * outside the session (`virsh -c URI …`), `args` the command as given to the session.
 *
 * @example
 * commandError(['virsh', '-c', 'qemu:///system', 'domstate', '--domain', 'web-1'], ['domstate', '--domain', 'web-1'],
 *   'qemu:///system', "error: failed to get domain 'web-1'\n");
 * // → VirshError code 'GUEST_NOT_FOUND', message 'guest "web-1" was not found at qemu:///system'
 */
export function commandError(command: readonly string[], args: readonly string[], uri: string, stderr: string): VirshError {
  const messages = libvirtErrors(stderr).filter((message) => !CONNECTION_NOTICE.test(message));
  const details = { command, stderr };
  if (messages.includes('Failed to reconnect to the hypervisor')) {
    const reasons = messages.filter((message) => message !== 'Failed to reconnect to the hypervisor');
    const reason = reasons.length > 0 ? reasons.join(': ') : 'virsh failed to reconnect';
    return new VirshError('LIBVIRT_UNREACHABLE', `lost the connection to libvirt at ${uri}: ${reason}`, details);
  }
  const libvirtMessage = messages.length > 0 ? messages.join(': ') : stderr.trim();
  const notFound = messages.find((message) => /^failed to get domain '|Domain not found/.test(message));
  if (notFound !== undefined) {
    const guest = guestArgument(args) ?? /^failed to get domain '(.*)'$/.exec(notFound)?.[1] ?? '?';
    return new VirshError('GUEST_NOT_FOUND', `guest "${guest}" was not found at ${uri}`, details);
  }
  const guest = guestArgument(args);
  if (guest !== undefined && messages.some((message) => /domain is not running/.test(message))) {
    return new VirshError('GUEST_NOT_RUNNING', `guest "${guest}" is not running at ${uri}; start it first (${virshHint(uri, 'start', { guest })})`, details);
  }
  return new VirshError('VIRSH_FAILED', `virsh ${args[0] ?? ''} failed at ${uri}: ${libvirtMessage}`, details);
}
