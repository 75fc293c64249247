/**
 * The argv pieces the typed commands are built from: a guest always as `--domain NAME` (so a name that
 * starts with `-` or holds spaces, quotes or non-ASCII is never read as an option), a flag when it is
 * asked for, an option with its value when it has one.
 */
import { VirtNestedError } from '../errors.js';

/**
 * `[command, '--domain', guest]`; throws `USAGE` for an empty name.
 *
 * @example
 * guestArgs('domstate', '-odd name') // ['domstate', '--domain', '-odd name']
 */
export function guestArgs(command: string, guest: string): string[] {
  if (guest === '') throw new VirtNestedError('USAGE', `virsh ${command} needs a guest name, got an empty one`);
  return [command, '--domain', guest];
}

/**
 * `[name]` when `enabled` is true, else nothing.
 *
 * @example
 * flag(options.inactive, '--inactive') // ['--inactive']
 */
export function flag(enabled: boolean | undefined, name: string): string[] {
  return enabled === true ? [name] : [];
}

/**
 * `[name, value]` when there is a value, else nothing.
 *
 * @example
 * valued('acpi', '--mode') // ['--mode', 'acpi']
 */
export function valued(value: string | undefined, name: string): string[] {
  return value === undefined ? [] : [name, value];
}
