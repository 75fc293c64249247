/**
 * The errors of a virsh session itself (as opposed to a command that virsh ran and that failed, see
 * `command-error.ts`): virsh missing or refused a connection, a command over its time, an abort, virsh
 * exiting under us. Each is one sentence naming the URI, and carries the command that reproduces it.
 */

import { VirshError, VirtNestedError } from '../errors.js';
import { libvirtErrors } from './framing.js';
import type { VirshExit } from './virsh-process.js';

/**
 * How a session names itself in messages: the virsh it runs, with which arguments, and the URI as
 * the caller named it (before `virsh uri` gives the canonical one).
 *
 * @example
 * const names: SessionNames = { virshPath: 'virsh', argv: ['-q', '-c', 'qemu:///system'], shownUri: 'qemu:///system' };
 */
export interface SessionNames {
  readonly virshPath: string;
  readonly argv: readonly string[];
  readonly shownUri: string;
}

/**
 * Commands that would break the session: they end it, switch its connection, change the directory
 * relative paths are read from, or read the terminal themselves.
 */
const REFUSED_COMMANDS = new Set(['quit', 'exit', 'connect', 'cd', 'console', 'edit']);

/**
 * A `USAGE` error for a command that cannot run inside a session, or undefined when it can.
 *
 * @example
 * refusedCommandError('qemu:///system', 'net-edit')?.message; // → 'virsh net-edit cannot run inside …'
 */
export function refusedCommandError(uri: string, name: string): VirtNestedError | undefined {
  if (!REFUSED_COMMANDS.has(name) && !name.endsWith('-edit')) return undefined;
  return new VirtNestedError('USAGE', `virsh ${name} cannot run inside a virt-nested session at ${uri}; run it with virsh directly`);
}

/**
 * Throws `USAGE` unless `ms` is a usable timeout (a positive number of milliseconds; `Infinity` waits forever).
 *
 * @example
 * assertTimeout(30_000); // fine
 */
export function assertTimeout(ms: number): void {
  if (!(ms > 0)) throw new VirtNestedError('USAGE', `the virsh timeout must be a positive number of milliseconds, got ${ms}`);
}

/**
 * The argv that runs `args` outside the session: `virsh -c URI ARGS…`.
 *
 * @example
 * reproducingCommand(names, 'qemu:///system', ['domstate', '--domain', 'web-1']); // → ['virsh', '-c', 'qemu:///system', 'domstate', …]
 */
export function reproducingCommand(names: SessionNames, uri: string, args: readonly string[]): string[] {
  return [names.virshPath, '-c', uri, ...args];
}

/**
 * `ABORTED`: the command was not written to virsh because the session's signal fired.
 *
 * @example
 * abortedError(names, uri, ['echo', 'x']).message; // → 'virsh echo was not run at qemu:///system because the operation was aborted'
 */
export function abortedError(names: SessionNames, uri: string, args: readonly string[]): VirshError {
  return new VirshError('ABORTED', `virsh ${args[0] ?? ''} was not run at ${uri} because the operation was aborted`, {
    command: reproducingCommand(names, uri, args),
    stderr: '',
  });
}

/**
 * Why a command did not run: the reason the session ended (its code and message, and as `cause`),
 * naming this command.
 *
 * @example
 * endedError(names, uri, ['echo', 'x'], timeout).code; // → 'VIRSH_TIMEOUT'
 */
export function endedError(names: SessionNames, uri: string, args: readonly string[], reason: VirtNestedError | undefined): VirshError {
  return new VirshError(reason?.code ?? 'VIRSH_FAILED', reason?.message ?? `the virsh session at ${uri} ended`, {
    command: reproducingCommand(names, uri, args),
    stderr: '',
    cause: reason,
    sessionEnded: true,
  });
}

/**
 * `USAGE`: a command asked of a session that was closed.
 *
 * @example
 * closedError('qemu:///system', 'echo').message; // → 'the virsh session at qemu:///system is closed; open a new one to run virsh echo'
 */
export function closedError(uri: string, name: string): VirtNestedError {
  return new VirtNestedError('USAGE', `the virsh session at ${uri} is closed; open a new one to run virsh ${name}`);
}

/**
 * `VIRSH_TIMEOUT` twice: `running` for the command that took too long (with what it had written to
 * stderr), `ended` for the session it ended (and so for every command behind it).
 *
 * @example
 * const { running, ended } = timeoutErrors(names, uri, ['event'], 300, '');
 */
export function timeoutErrors(
  names: SessionNames,
  uri: string,
  args: readonly string[],
  timeoutMs: number,
  stderr: string,
): { running: VirshError; ended: VirshError } {
  const what = `virsh ${args[0] ?? ''} did not finish within ${timeoutMs} ms at ${uri}`;
  const command = reproducingCommand(names, uri, args);
  return {
    running: new VirshError('VIRSH_TIMEOUT', `${what}; the virsh session was closed, and libvirt may still finish the command`, { command, stderr }),
    ended: new VirshError('VIRSH_TIMEOUT', `${what}, so the virsh session was closed; open a new one`, { command, stderr: '' }),
  };
}

/**
 * `LIBVIRT_UNREACHABLE`: the connection could not be made, for `reason`.
 *
 * @example
 * unreachableError(names, 'no answer within 500 ms', '').message; // → 'cannot connect to libvirt at qemu:///system: no answer within 500 ms'
 */
export function unreachableError(names: SessionNames, reason: string, stderr: string, details: { exitCode?: number; cause?: unknown } = {}): VirshError {
  return new VirshError('LIBVIRT_UNREACHABLE', `cannot connect to libvirt at ${names.shownUri}: ${reason}`, {
    command: [names.virshPath, ...names.argv],
    ...details,
    stderr,
  });
}

/**
 * What virsh's end while connecting means: `LIBVIRT_MISSING` when it could not be started,
 * otherwise `LIBVIRT_UNREACHABLE` with libvirt's reason.
 *
 * @example
 * connectionError(names, { spawnError: 'ENOENT' }, '').code; // → 'LIBVIRT_MISSING'
 */
export function connectionError(names: SessionNames, exit: VirshExit, stderr: string): VirshError {
  if (exit.spawnError === 'ENOENT' || exit.spawnError === 'EACCES') return missingError(names, exit.spawnError, exit.cause);
  return unreachableError(names, connectionFailureReason(stderr, exit), stderr, exit.exitCode === undefined ? {} : { exitCode: exit.exitCode });
}

function missingError(names: SessionNames, code: 'ENOENT' | 'EACCES', cause: unknown): VirshError {
  const { virshPath } = names;
  const message =
    virshPath === 'virsh'
      ? code === 'ENOENT'
        ? 'virsh was not found; install libvirt-clients'
        : 'virsh cannot be run (permission denied); check the virsh in PATH or install libvirt-clients'
      : code === 'ENOENT'
        ? `virsh was not found at ${virshPath}; install libvirt-clients or fix the path`
        : `virsh at ${virshPath} cannot be run (permission denied); fix the path or its permissions`;
  return new VirshError('LIBVIRT_MISSING', message, { command: [virshPath, ...names.argv], stderr: '', cause });
}

/**
 * libvirt's reason for a refused connection: the `error:` lines after virsh's own "failed to connect to
 * the hypervisor".
 */
function connectionFailureReason(stderr: string, exit: VirshExit): string {
  const messages = libvirtErrors(stderr).filter((message) => message !== 'failed to connect to the hypervisor');
  if (messages.length > 0) return messages.join(': ');
  const text = stderr.trim().split('\n').filter(Boolean).join(': ');
  if (text !== '') return text;
  return exit.signal !== undefined ? `virsh was killed by ${exit.signal}` : `virsh exited with code ${exit.exitCode ?? '?'}`;
}

/**
 * `VIRSH_FAILED`: virsh exited (or was killed) while the session was open.
 *
 * @example
 * exitError(names, uri, { signal: 'SIGKILL' }, '').message; // → 'virsh was killed by SIGKILL at qemu:///system; open a new session'
 */
export function exitError(names: SessionNames, uri: string, exit: VirshExit, stderr: string): VirshError {
  const how = exit.signal !== undefined ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode ?? '?'}`;
  const messages = libvirtErrors(stderr);
  const why = messages.length > 0 ? `: ${messages.join(': ')}` : '';
  return new VirshError('VIRSH_FAILED', `virsh ${how} at ${uri}${why}; open a new session`, {
    command: [names.virshPath, ...names.argv],
    ...(exit.exitCode === undefined ? {} : { exitCode: exit.exitCode }),
    stderr,
    sessionEnded: true,
  });
}
