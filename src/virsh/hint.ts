/**
 * Commands suggested in messages, as a user would type them in a POSIX shell. They are only shown,
 * never run: virt-nested itself passes argv, never a shell string.
 */
import { quoteVirshArgument } from './command-line.js';

/**
 * One argument quoted for a POSIX shell (and zsh, which expands an unquoted word starting with `=`).
 *
 * @example
 * shellArgument("it's") // `'it'\''s'`
 */
export function shellArgument(argument: string): string {
  const quoted = quoteVirshArgument(argument);
  return quoted.startsWith('=') ? `'${quoted}'` : quoted;
}

/**
 * A virsh command for a message: `virsh -c URI COMMAND [--domain NAME] ARGS…`. The guest goes after
 * `--domain`, so that a name starting with `-` stays a name.
 *
 * @example
 * virshHint('qemu+ssh://hv1/system', 'shutdown', { guest: '--odd' }) // "virsh -c qemu+ssh://hv1/system shutdown --domain '--odd'"
 */
export function virshHint(uri: string, command: string, options: { guest?: string; args?: readonly string[] } = {}): string {
  const words = ['virsh', '-c', shellArgument(uri), command];
  if (options.guest !== undefined) words.push('--domain', shellArgument(options.guest));
  for (const argument of options.args ?? []) words.push(shellArgument(argument));
  return words.join(' ');
}

/**
 * The virt-nested command that gives a guest a nested-capable CPU, for a message.
 *
 * @example
 * setCpuHint('web-1', 'qemu:///system') // 'virt-nested set-cpu --mode host-model -c qemu:///system -- web-1'
 */
export function setCpuHint(guest: string, uri: string): string {
  return `virt-nested set-cpu --mode host-model -c ${shellArgument(uri)} -- ${shellArgument(guest)}`;
}
