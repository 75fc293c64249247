/**
 * The one place the host code runs programs: argv only (never a shell), a timeout, and a result
 * instead of a throw, so a missing `virsh` or `modprobe` is an answer callers can report.
 */
import { constants } from 'node:os';
import { execa } from 'execa';

/**
 * What a program printed and how it ended. A program that could not be started gives 127 (not
 * found) or 126 (not executable), one that timed out 124, one killed by a signal 128 + its number,
 * as a shell would say.
 *
 * @example
 * const result: CommandResult = { stdout: 'web-1\n\n', stderr: '', exitCode: 0 };
 */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * Options of one run.
 *
 * @example
 * const options: CommandOptions = { timeout: 10_000 };
 */
export interface CommandOptions {
  /** Milliseconds before the program is stopped; {@link DEFAULT_COMMAND_TIMEOUT} when not given. */
  readonly timeout?: number;
  /** Text written to the program's stdin. */
  readonly input?: string;
}

/**
 * Runs `file` with `args` and resolves with its result; injected wherever the host code runs a
 * program, so tests can record or answer calls.
 *
 * @example
 * const run: CommandRunner = async (file, args) => ({ stdout: '', stderr: `${file}: command not found`, exitCode: 127 });
 */
export type CommandRunner = (file: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

/**
 * The timeout of {@link runCommand} when the caller gives none: one minute.
 *
 * @example
 * await runCommand('virsh', ['list'], { timeout: DEFAULT_COMMAND_TIMEOUT * 2 });
 */
export const DEFAULT_COMMAND_TIMEOUT = 60_000;

function signalNumber(signal: string | undefined): number {
  const number = signal === undefined ? undefined : (constants.signals as Record<string, number | undefined>)[signal];
  return number ?? 0;
}

/**
 * The real {@link CommandRunner}, on execa: no shell, output kept as printed, never rejects.
 *
 * @example
 * const { stdout, exitCode } = await runCommand('virsh', ['-c', 'qemu:///system', 'list', '--name']);
 */
export const runCommand: CommandRunner = async (file, args, options = {}) => {
  const timeout = options.timeout ?? DEFAULT_COMMAND_TIMEOUT;
  const result = await execa(file, [...args], {
    reject: false,
    shell: false,
    timeout,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  if (typeof result.exitCode === 'number') return { stdout, stderr, exitCode: result.exitCode };
  if (result.code === 'ENOENT') return { stdout, stderr: `${file}: command not found`, exitCode: 127 };
  if (result.code === 'EACCES') return { stdout, stderr: `${file}: permission denied`, exitCode: 126 };
  const note = (text: string) => (stderr === '' ? text : `${stderr}${stderr.endsWith('\n') ? '' : '\n'}${text}`);
  if (result.timedOut) return { stdout, stderr: note(`${file}: timed out after ${timeout} ms`), exitCode: 124 };
  if (result.signal !== undefined) {
    return { stdout, stderr: note(`${file}: killed by ${result.signal}`), exitCode: 128 + signalNumber(result.signal) };
  }
  return { stdout, stderr: note(`${file}: ${result.originalMessage || result.shortMessage}`), exitCode: 1 };
};
