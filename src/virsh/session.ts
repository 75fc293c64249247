/**
 * One long-lived `virsh` per connection: commands are written to its interactive shell one line at a
 * time and their output is cut apart with markers (see `framing.ts`), so a whole workflow (domstate,
 * dumpxml, domcapabilities, define, dumpxml again) costs one process start instead of one per step.
 */

import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { VirshError, VirtNestedError } from '../errors.js';
import { assertVirshArgument, virshCommandLine } from './command-line.js';
import { commandError, commandFailed } from './command-error.js';
import {
  define,
  destroy,
  domstate,
  dumpxml,
  listGuests,
  qemuMonitorCommand,
  shutdown,
  start,
  undefine,
  type DefineOptions,
  type DestroyOptions,
  type DomainState,
  type DumpxmlOptions,
  type ListGuestsOptions,
  type ShutdownOptions,
  type UndefineOptions,
} from './domain-commands.js';
import { domcapabilities, type DomcapabilitiesOptions } from './domcapabilities.js';
import { makeHistoryDir, removeHistoryDir } from './history-dir.js';
import { VIRSH_PROMPT, commandStdout, findStderrEnd, findStdoutEnd, frameCommand, libvirtErrors, type VirshFrame } from './framing.js';

/**
 * How long a command (and the initial connection) may take unless told otherwise.
 *
 * @example
 * await openVirsh({ uri, timeoutMs: 2 * DEFAULT_VIRSH_TIMEOUT_MS });
 */
export const DEFAULT_VIRSH_TIMEOUT_MS = 30_000;

/** How long `close()` waits for virsh to quit before killing it. */
const CLOSE_GRACE_MS = 2_000;

/**
 * The environment virsh needs for exact framing, laid over the caller's. readline echoes each line
 * byte for byte only on a terminal it knows, wider than the line, in a UTF-8 locale, without user key
 * bindings: with TERM unset or `dumb` it scrolls lines wider than COLUMNS (80 by default), with
 * `xterm` it may write cursor escapes into a line that wraps, and a non-UTF-8 locale
 * shows `ü` as `\303\274`. `C.UTF-8` also keeps libvirt's messages in English, which the error mapping
 * reads. TERM, COLUMNS and INPUTRC matter to nothing in virsh but readline.
 */
const PROTOCOL_ENVIRONMENT: Readonly<Record<string, string>> = {
  TERM: 'dumb',
  COLUMNS: '100000',
  INPUTRC: '/dev/null',
  LC_ALL: 'C.UTF-8',
};

/**
 * Commands that would break the session: they end it, switch its connection, change the directory
 * relative paths are read from, or read the terminal themselves.
 */
const REFUSED_COMMANDS = new Set(['quit', 'exit', 'connect', 'cd', 'console', 'edit']);

/**
 * Options of {@link openVirsh}.
 *
 * @example
 * const options: OpenVirshOptions = { uri: 'qemu+ssh://root@host1/system', timeoutMs: 10_000, signal: controller.signal };
 */
export interface OpenVirshOptions {
  /** libvirt URI (`-c URI`); without it virsh picks one as usual (`LIBVIRT_DEFAULT_URI`, libvirt.conf). */
  uri?: string;
  /** Variables laid over `process.env` for virsh (an `undefined` value removes one). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds the connection and each command may take; default {@link DEFAULT_VIRSH_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The virsh executable; default `virsh` from `PATH`. */
  virshPath?: string;
  /**
   * Aborts the session: commands not yet written to virsh are rejected with code `ABORTED`; the running
   * one (and any pipelined behind it) finishes, then virsh quits.
   */
  signal?: AbortSignal;
}

/**
 * Options of {@link VirshSession.run} (and of every helper).
 *
 * @example
 * await session.run(['domstate', '--domain', 'web-1'], { timeoutMs: 5_000 });
 */
export interface VirshRunOptions {
  /** Milliseconds this command may take; on expiry the session is closed. Default: the session's. */
  timeoutMs?: number;
  /**
   * Write the command to virsh at once, without waiting for the commands ahead of it to finish: virsh
   * runs it right after them, and the round trip between them is saved. For commands whose running does
   * not depend on the outcome of those ahead (reads, mostly). Once written, an abort no longer stops it.
   */
  pipeline?: boolean;
}

/**
 * What one command printed: `stdout` byte for byte, `stderr` (warnings; empty for most commands).
 *
 * @example
 * const { stdout } = await session.run(['uri']); // → { stdout: 'qemu:///system\n', stderr: '' }
 */
export interface VirshOutput {
  stdout: string;
  stderr: string;
}

/**
 * A connection to libvirt through one `virsh` process. Commands run one after another, in the order
 * they were asked for; each is written to virsh when the one before it has finished, or at once with
 * `pipeline: true`. Guest names are always passed as `--domain NAME`; note that virsh looks NAME up as an ID,
 * then a UUID, then a name.
 *
 * @example
 * const virsh = await openVirsh({ uri: 'qemu:///system' });
 * try {
 *   if ((await virsh.domstate('web-1')) === 'shut off') console.log(await virsh.dumpxml('web-1', { inactive: true, securityInfo: true }));
 * } finally {
 *   await virsh.close();
 * }
 */
export interface VirshSession {
  /** The canonical URI of the connection, as `virsh uri` prints it. */
  readonly uri: string;
  /** The virsh process id. */
  readonly pid: number | undefined;
  /**
   * Runs one virsh command (argv, without `virsh`, `-c` or `-q`; virsh runs quiet, so `list` prints no
   * header and `define` no confirmation) and returns its output. Throws {@link VirshError}:
   * `GUEST_NOT_FOUND`, `GUEST_NOT_RUNNING`, `VIRSH_FAILED` (libvirt's message), `VIRSH_TIMEOUT` (the
   * session is then closed), `LIBVIRT_UNREACHABLE` (the connection was lost and virsh could not
   * reconnect), `ABORTED` (after the session's signal fired); and `USAGE` for an argument with a
   * newline or other control character, for a closed session, and for commands that would break the
   * session (`quit`, `connect`, `cd`, `console`, `edit`, `*-edit`).
   */
  run(args: readonly string[], options?: VirshRunOptions): Promise<VirshOutput>;
  /** `virsh domstate`: `'running'`, `'shut off'`, `'paused'`, … */
  domstate(guest: string, options?: VirshRunOptions): Promise<DomainState>;
  /** `virsh dumpxml`: the domain XML exactly as virsh prints it. */
  dumpxml(guest: string, options?: DumpxmlOptions): Promise<string>;
  /** `virsh domcapabilities`; `undefined` when the driver has none (libvirt's test driver): "cannot check". */
  domcapabilities(options?: DomcapabilitiesOptions): Promise<string | undefined>;
  /** `virsh define --file FILE [--validate]`; `--validate` unless `validate: false`. Throws `DEFINE_FAILED`. */
  define(file: string, options?: DefineOptions): Promise<void>;
  /** `virsh list --name`: guest names, of running guests unless `all` or `state` says otherwise. */
  listGuests(options?: ListGuestsOptions): Promise<string[]>;
  /** `virsh start`. */
  start(guest: string, options?: VirshRunOptions): Promise<void>;
  /** `virsh shutdown` (asks the guest; returns before it is off). */
  shutdown(guest: string, options?: ShutdownOptions): Promise<void>;
  /** `virsh destroy` (pulls the plug). */
  destroy(guest: string, options?: DestroyOptions): Promise<void>;
  /** `virsh undefine`. */
  undefine(guest: string, options?: UndefineOptions): Promise<void>;
  /** `virsh qemu-monitor-command` (QMP): QEMU's JSON reply as virsh prints it. */
  qemuMonitorCommand(guest: string, command: string | Readonly<Record<string, unknown>>, options?: VirshRunOptions): Promise<string>;
  /** Lets queued commands finish, sends `quit`, and kills virsh if it has not exited after a grace period. */
  close(): Promise<void>;
}

interface Job {
  readonly args: readonly string[];
  readonly line: string;
  readonly timeoutMs: number;
  readonly pipeline: boolean;
  readonly resolve: (output: VirshOutput) => void;
  readonly reject: (error: Error) => void;
}

/** A command written to virsh; the first of them is the one virsh runs now, and only it has a timer. */
interface Written {
  readonly job: Job;
  readonly frame: VirshFrame;
  timer: NodeJS.Timeout | undefined;
}

type Phase = 'connecting' | 'open' | 'closing' | 'ended';

/**
 * Starts virsh for `uri`, checks the connection at once, and returns the session. Throws
 * {@link VirshError} `LIBVIRT_MISSING` when virsh cannot be run, `LIBVIRT_UNREACHABLE` when libvirt
 * refuses or cannot be reached (one sentence with the URI and libvirt's reason).
 *
 * @example
 * const session = await openVirsh({ uri: 'qemu:///system' });
 * try { console.log(await session.domstate('web-1')); } finally { await session.close(); }
 */
export async function openVirsh(options: OpenVirshOptions = {}): Promise<VirshSession> {
  const virshPath = options.virshPath ?? 'virsh';
  const timeoutMs = options.timeoutMs ?? DEFAULT_VIRSH_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new VirtNestedError('USAGE', `the virsh timeout must be a positive number of milliseconds, got ${timeoutMs}`);
  const requestedUri = options.uri === '' ? undefined : options.uri;
  if (requestedUri !== undefined) assertVirshArgument(requestedUri);
  const history = privateHistory(requestedUri);
  const env = virshEnvironment({ ...(history ? { XDG_CACHE_HOME: history } : {}), ...options.env });
  const argv = ['-q', ...(requestedUri === undefined ? [] : ['-c', requestedUri])];
  const shownUri = requestedUri || env['VIRSH_DEFAULT_CONNECT_URI'] || env['LIBVIRT_DEFAULT_URI'] || 'the default URI';
  const signal = options.signal;
  if (signal?.aborted) throw new VirtNestedError('ABORTED', `virsh was not started for ${shownUri} because the operation was aborted`);

  const subprocess = execa(virshPath, argv, {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    env,
    extendEnv: false,
    forceKillAfterDelay: CLOSE_GRACE_MS,
    // its own process group: a terminal's Ctrl-C reaches virt-nested, which finishes the guest being
    // edited through this session; virsh still ends with us, as its stdin closes
    detached: true,
  });

  let phase: Phase = 'connecting';
  let uri = shownUri;
  let stdout: Buffer = Buffer.alloc(0);
  let stderr: Buffer = Buffer.alloc(0);
  let stdoutSearched = 0;
  let stderrSearched = 0;
  /** Commands not yet written to virsh. */
  const queue: Job[] = [];
  /** Commands written to virsh, in order; virsh runs the first. */
  const written: Written[] = [];
  let aborted = false;
  /** Why the session ended early (timeout, abort, virsh exiting); later commands get its code. */
  let endedBy: VirtNestedError | undefined;
  let closing: Promise<void> | undefined;
  const idleWaiters: Array<() => void> = [];

  let connected!: (value: void) => void;
  let connectFailed!: (error: Error) => void;
  const connection = new Promise<void>((resolve, reject) => {
    connected = resolve;
    connectFailed = reject;
  });
  const exited = subprocess.then((result) => {
    removeHistoryDir(history);
    onExit(result);
  });

  const commandFor = (args: readonly string[]): string[] => [virshPath, '-c', uri, ...args];

  const rejectQueued = (errorFor: (job: Job) => Error): void => {
    for (const job of queue.splice(0)) job.reject(errorFor(job));
  };

  const notifyIdle = (): void => {
    if (written.length > 0 || queue.length > 0) return;
    for (const wake of idleWaiters.splice(0)) wake();
  };

  /** The first written command is now the one virsh runs: its timeout starts, its output is looked for. */
  const startHead = (): void => {
    const head = written[0];
    if (head === undefined) return;
    head.timer = armTimer(head.job.timeoutMs, onTimeout);
    stdoutSearched = 0;
    stderrSearched = 0;
  };

  /** Writes the next command when virsh has none left, and pipelined ones without waiting. */
  const dispatch = (): void => {
    if (phase === 'connecting' || phase === 'ended') return;
    let wrote = false;
    while (queue.length > 0 && (written.length === 0 || (queue[0] as Job).pipeline)) {
      const job = queue.shift() as Job;
      const entry: Written = { job, frame: frameCommand(job.line, randomBytes(12).toString('hex')), timer: undefined };
      written.push(entry);
      if (written.length === 1) startHead();
      subprocess.stdin.write(entry.frame.input);
      wrote = true;
    }
    if (written.length === 0) {
      notifyIdle();
      if (aborted) void close();
      return;
    }
    if (wrote) pump();
  };

  const pump = (): void => {
    if (phase === 'connecting') {
      if (stdout.length === 0) return;
      if (stdout.length >= VIRSH_PROMPT.length && stdout.subarray(0, VIRSH_PROMPT.length).toString('utf8') === VIRSH_PROMPT) {
        connected();
        return;
      }
      const text = stdout.toString('utf8');
      if (VIRSH_PROMPT.startsWith(text)) return;
      // Before its first prompt virsh prints only what libvirt's auth callback asks for.
      const asked = text.trim().slice(0, 200);
      connectFailed(unreachable(`libvirt asked ${JSON.stringify(asked)}, which virt-nested cannot answer; set up key or certificate authentication for it`));
      subprocess.kill('SIGKILL');
      return;
    }
    let finished = false;
    // the output of several pipelined commands may have arrived at once
    for (let head = written[0]; head !== undefined; head = written[0]) {
      const { frame, job } = head;
      const stdoutEnd = findStdoutEnd(stdout, frame, stdoutSearched);
      if (stdoutEnd < 0) stdoutSearched = Math.max(0, stdout.length - frame.token.length);
      const stderrEnd = findStderrEnd(stderr, frame, stderrSearched);
      if (stderrEnd === undefined) stderrSearched = Math.max(0, stderr.length - frame.token.length - 1);
      if (stdoutEnd < 0 || stderrEnd === undefined) break;

      const chunk = stdout.subarray(0, stdoutEnd).toString('utf8');
      stdout = stdout.subarray(stdoutEnd);
      const errors = stderr.subarray(0, stderrEnd.commandEnd).toString('utf8');
      stderr = stderr.subarray(stderrEnd.end);
      clearTimeout(head.timer);
      written.shift();
      startHead();
      if (commandFailed(errors)) job.reject(commandError(commandFor(job.args), job.args, uri, errors));
      else job.resolve({ stdout: commandStdout(chunk, frame), stderr: errors });
      finished = true;
    }
    if (finished) dispatch();
  };

  /** Why a command did not run: the reason the session ended, naming that command. */
  const endedError = (args: readonly string[]): VirshError =>
    new VirshError(endedBy?.code ?? 'VIRSH_FAILED', endedBy?.message ?? `the virsh session at ${uri} ended`, { command: commandFor(args), stderr: '' });

  const end = (reason: VirtNestedError, errorForRunning?: Error): void => {
    if (phase === 'ended') return;
    phase = 'ended';
    endedBy = reason;
    for (const [index, { job, timer }] of written.splice(0).entries()) {
      clearTimeout(timer);
      job.reject(index === 0 ? errorForRunning ?? reason : endedError(job.args));
    }
    rejectQueued((job) => endedError(job.args));
    notifyIdle();
    if (subprocess.exitCode === null && subprocess.signalCode === null) subprocess.kill('SIGTERM');
  };

  const onTimeout = (): void => {
    const job = written[0]?.job;
    if (job === undefined) return;
    const what = `virsh ${job.args[0] ?? ''} did not finish within ${job.timeoutMs} ms at ${uri}`;
    end(
      new VirshError('VIRSH_TIMEOUT', `${what}, so the virsh session was closed; open a new one`, { command: commandFor(job.args), stderr: '' }),
      new VirshError('VIRSH_TIMEOUT', `${what}; the virsh session was closed, and libvirt may still finish the command`, {
        command: commandFor(job.args),
        stderr: stderr.toString('utf8'),
      }),
    );
  };

  const unreachable = (reason: string, exitCode?: number): VirshError =>
    new VirshError('LIBVIRT_UNREACHABLE', `cannot connect to libvirt at ${shownUri}: ${reason}`, {
      command: [virshPath, ...argv],
      ...(exitCode === undefined ? {} : { exitCode }),
      stderr: stderr.toString('utf8'),
    });

  const onExit = (result: { failed: boolean; code?: string; exitCode?: number; signal?: string }): void => {
    signal?.removeEventListener('abort', onAbort);
    if (phase === 'connecting') {
      phase = 'ended';
      if (aborted) connectFailed(new VirtNestedError('ABORTED', `connecting to libvirt at ${shownUri} was aborted`));
      else if (result.code === 'ENOENT' || result.code === 'EACCES') connectFailed(missing(result.code));
      else connectFailed(unreachable(connectionFailureReason(stderr.toString('utf8'), result), result.exitCode));
      return;
    }
    const how = result.signal !== undefined ? `was killed by ${result.signal}` : `exited with code ${result.exitCode ?? '?'}`;
    const messages = libvirtErrors(stderr.toString('utf8'));
    const why = messages.length > 0 ? `: ${messages.join(': ')}` : '';
    end(
      new VirshError('VIRSH_FAILED', `virsh ${how} at ${uri}${why}; open a new session`, {
        command: [virshPath, ...argv],
        ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
        stderr: stderr.toString('utf8'),
      }),
    );
  };

  const missing = (code: string): VirshError =>
    new VirshError(
      'LIBVIRT_MISSING',
      virshPath === 'virsh'
        ? code === 'ENOENT'
          ? 'virsh was not found; install libvirt-clients'
          : 'virsh cannot be run (permission denied); check the virsh in PATH or install libvirt-clients'
        : code === 'ENOENT'
          ? `virsh was not found at ${virshPath}; install libvirt-clients or fix the path`
          : `virsh at ${virshPath} cannot be run (permission denied); fix the path or its permissions`,
      { command: [virshPath, ...argv], stderr: '' },
    );

  const onAbort = (): void => {
    aborted = true;
    if (phase === 'connecting') {
      subprocess.kill('SIGKILL');
      return;
    }
    rejectQueued((job) => abortedError(job.args));
    if (written.length === 0) void close();
  };

  const abortedError = (args: readonly string[]): VirshError =>
    new VirshError('ABORTED', `virsh ${args[0] ?? ''} was not run at ${uri} because the operation was aborted`, { command: commandFor(args), stderr: '' });

  const run = (args: readonly string[], runOptions: VirshRunOptions = {}): Promise<VirshOutput> =>
    new Promise<VirshOutput>((resolve, reject) => {
      const name = args[0] ?? '';
      if (REFUSED_COMMANDS.has(name) || name.endsWith('-edit')) {
        throw new VirtNestedError('USAGE', `virsh ${name} cannot run inside a virt-nested session at ${uri}; run it with virsh directly`);
      }
      const line = virshCommandLine(args);
      const commandTimeout = runOptions.timeoutMs ?? timeoutMs;
      if (!(commandTimeout > 0)) throw new VirtNestedError('USAGE', `the virsh timeout must be a positive number of milliseconds, got ${commandTimeout}`);
      if (aborted) throw abortedError(args);
      if (phase === 'ended' && endedBy !== undefined) throw endedError(args);
      if (phase !== 'open') throw new VirtNestedError('USAGE', `the virsh session at ${uri} is closed; open a new one to run virsh ${name}`);
      queue.push({ args: [...args], line, timeoutMs: commandTimeout, pipeline: Boolean(runOptions.pipeline), resolve, reject });
      dispatch();
    });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (phase === 'open') phase = 'closing';
      if (written.length > 0 || queue.length > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      if (phase === 'closing') {
        phase = 'ended';
        endedBy = undefined;
        // `quit` (not a signal) so that virsh closes the connection cleanly: a client that just
        // disappears makes libvirtd log "End of file while reading data" as an error.
        subprocess.stdin.end('quit\n');
      }
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS);
      });
      if ((await Promise.race([exited.then(() => 'exited' as const), graceOver])) === 'timeout') subprocess.kill('SIGKILL');
      clearTimeout(timer);
      await exited;
    })();
    return closing;
  };

  const onData = (stream: 'stdout' | 'stderr') => (data: Buffer | string) => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (stream === 'stdout') stdout = stdout.length === 0 ? bytes : Buffer.concat([stdout, bytes]);
    else stderr = stderr.length === 0 ? bytes : Buffer.concat([stderr, bytes]);
    pump();
  };
  subprocess.stdout.on('data', onData('stdout'));
  subprocess.stderr.on('data', onData('stderr'));
  // virsh may exit (a refused connection) before reading what was written; its exit says why.
  subprocess.stdin.on('error', () => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });

  const connectTimer = armTimer(timeoutMs, () => {
    if (phase !== 'connecting') return;
    connectFailed(unreachable(`no answer within ${timeoutMs} ms`));
    subprocess.kill('SIGKILL');
  });
  try {
    await connection;
  } catch (error) {
    phase = 'ended';
    await exited;
    throw error;
  } finally {
    clearTimeout(connectTimer);
  }

  phase = 'open';
  try {
    uri = (await run(['uri'])).stdout.replace(/\n+$/, '');
  } catch (error) {
    await close();
    if (error instanceof VirshError && error.code === 'VIRSH_FAILED') throw unreachable(libvirtErrors(error.stderr).join(': ') || error.message);
    throw error;
  }

  const session: VirshSession = {
    get uri() {
      return uri;
    },
    pid: subprocess.pid,
    run,
    close,
    domstate: (guest, runOptions) => domstate(session, guest, runOptions),
    dumpxml: (guest, dumpOptions) => dumpxml(session, guest, dumpOptions),
    domcapabilities: (capsOptions) => domcapabilities(session, capsOptions),
    define: (file, defineOptions) => define(session, file, defineOptions),
    listGuests: (listOptions) => listGuests(session, listOptions),
    start: (guest, runOptions) => start(session, guest, runOptions),
    shutdown: (guest, shutdownOptions) => shutdown(session, guest, shutdownOptions),
    destroy: (guest, destroyOptions) => destroy(session, guest, destroyOptions),
    undefine: (guest, undefineOptions) => undefine(session, guest, undefineOptions),
    qemuMonitorCommand: (guest, command, runOptions) => qemuMonitorCommand(session, guest, command, runOptions),
  };
  return session;
}

/**
 * Opens a session, runs `fn` with it, and always closes it, also when `fn` throws.
 *
 * @example
 * const state = await withVirsh({ uri: 'qemu:///system' }, (virsh) => virsh.domstate('web-1'));
 */
export async function withVirsh<T>(options: OpenVirshOptions, fn: (session: VirshSession) => Promise<T> | T): Promise<T> {
  const session = await openVirsh(options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** A timer for `ms`, or none for `Infinity` (and anything setTimeout cannot wait for). */
function armTimer(ms: number, fire: () => void): NodeJS.Timeout | undefined {
  return ms <= 2_147_483_647 ? setTimeout(fire, ms) : undefined;
}

/**
 * On `quit`, virsh saves its readline history (500 lines) under `$XDG_CACHE_HOME/libvirt/virsh`: our
 * commands and markers would push out the admin's own. Point it at a private directory (see
 * `history-dir.ts`: removed when virsh exits, and by the next run when this one was killed), except for
 * local session URIs, where virsh may start a session daemon that would inherit the variable.
 *
 * @example
 * const history = privateHistory('qemu:///system'); // '/tmp/virt-nested-virsh-0/4242-a1B2c3'
 */
export function privateHistory(uri: string | undefined): string | undefined {
  if (uri === undefined || /^[\w+]+:\/\/\/session/.test(uri)) return undefined;
  return makeHistoryDir();
}

/**
 * virsh's environment: `process.env`, the caller's variables over it, then {@link PROTOCOL_ENVIRONMENT}.
 *
 * @example
 * execa('virsh', ['-q'], { env: virshEnvironment({ XDG_CACHE_HOME: dir }), extendEnv: false });
 */
export function virshEnvironment(overrides: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  // LANGUAGE would still pick a translation over LC_ALL.
  delete env['LANGUAGE'];
  return { ...env, ...PROTOCOL_ENVIRONMENT };
}

/**
 * libvirt's reason for a refused connection: the `error:` lines after virsh's own "failed to connect to
 * the hypervisor".
 */
function connectionFailureReason(stderr: string, result: { exitCode?: number; signal?: string }): string {
  const messages = libvirtErrors(stderr).filter((message) => message !== 'failed to connect to the hypervisor');
  if (messages.length > 0) return messages.join(': ');
  const text = stderr.trim().split('\n').filter(Boolean).join(': ');
  if (text !== '') return text;
  return result.signal !== undefined ? `virsh was killed by ${result.signal}` : `virsh exited with code ${result.exitCode ?? '?'}`;
}
