/**
 * An argument as a user would type it in a POSIX shell, for messages that suggest a command
 * (never executed: virt-nested passes argv, never a shell string).
 *
 * @example
 * displayArgument("it's") // `'it'\''s'`
 */
export function displayArgument(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) && !value.startsWith('-') ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
