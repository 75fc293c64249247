/**
 * One virsh command as one line of virsh's interactive shell: each argument quoted for virsh's own
 * shell-like parser, so that an argument is passed byte for byte whatever it holds (spaces, quotes,
 * backslashes, `;`, `#`, non-ASCII, a leading `-`).
 */

import { VirtNestedError } from '../errors.js';

/**
 * Bytes virsh's interactive shell cannot take inside an argument: a newline or CR ends the line, NUL
 * ends the C string, and readline treats the other C0 controls and DEL as editing keys (TAB completes,
 * ^A moves to the start of the line, DEL rubs out), so they would silently change the command.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Arguments made only of these need no quotes; the echo of such a line reads like a typed command. */
const PLAIN_ARGUMENT = /^[A-Za-z0-9_.,:/=@%+-]+$/;

/**
 * Quotes one argument for virsh's command parser (the one behind `virsh 'cmd; cmd'` and its interactive
 * shell): inside single quotes nothing is special, and a `'` is written as `'\''`, exactly as in a POSIX
 * shell. Plain arguments are returned as they are.
 *
 * @example
 * quoteVirshArgument(`it's "quoted"`); // → 'it'\''s "quoted"'
 * quoteVirshArgument('--domain');      // → --domain
 */
export function quoteVirshArgument(argument: string): string {
  if (PLAIN_ARGUMENT.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/**
 * Throws a `USAGE` error when an argument holds a byte virsh's interactive shell cannot pass through
 * (newline, CR, NUL, or another control character).
 *
 * @example
 * assertVirshArgument('web 1');      // fine
 * assertVirshArgument('web\n1');     // throws VirtNestedError, code 'USAGE'
 */
export function assertVirshArgument(argument: string): void {
  const match = CONTROL_CHARACTER.exec(argument);
  if (match === null) return;
  const code = match[0].charCodeAt(0).toString(16).padStart(2, '0');
  throw new VirtNestedError(
    'USAGE',
    `virsh argument ${JSON.stringify(argument)} holds the control character U+00${code.toUpperCase()}, which virsh cannot take; remove it from the name or path`,
  );
}

/**
 * Builds the line that runs `args` in virsh's interactive shell, after checking every argument with
 * {@link assertVirshArgument}.
 *
 * @example
 * virshCommandLine(['domstate', '--domain', '-vn odd name ü']); // → "domstate --domain '-vn odd name ü'"
 */
export function virshCommandLine(args: readonly string[]): string {
  if (args.length === 0) throw new VirtNestedError('USAGE', 'a virsh command needs at least a command name; pass e.g. ["domstate", "--domain", "web-1"]');
  for (const argument of args) assertVirshArgument(argument);
  return args.map(quoteVirshArgument).join(' ');
}
