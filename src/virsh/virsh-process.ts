/**
 * The virsh process under a session: what a transport needs of it ({@link VirshProcess}), and the
 * real one, started in the environment that keeps virsh's output exact. It is a long-lived shell whose
 * pipes the transport drives itself, so it is spawned with `node:child_process` (execa, which runs the
 * host's one-shot commands, would cost every virsh user ~60 ms of loading and nothing else).
 */

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * How long `close()` waits for virsh to quit before killing it (and execa after a SIGTERM).
 *
 * @example
 * timers.setTimeout(() => process.kill('SIGKILL'), CLOSE_GRACE_MS);
 */
export const CLOSE_GRACE_MS = 2_000;

/**
 * How virsh ended: its exit code or signal, or (`spawnError`, e.g. `ENOENT`) why it never started.
 * `cause` is the underlying error, kept on the error that reports it.
 *
 * @example
 * const exit: VirshExit = { signal: 'SIGKILL' };
 */
export interface VirshExit {
  readonly exitCode?: number;
  readonly signal?: string;
  readonly spawnError?: string;
  readonly cause?: unknown;
}

/**
 * A stream of what virsh prints (stdout or stderr).
 *
 * @example
 * const stream: VirshOutputStream = new PassThrough();
 */
export interface VirshOutputStream {
  on(event: 'data', listener: (data: Buffer | string) => void): unknown;
}

/**
 * The virsh process a transport drives: its pipes, how it ended, and a way to signal it. `exited`
 * settles once, when the process is gone (or could not be started), and never rejects.
 *
 * @example
 * const process: VirshProcess = spawnVirsh('virsh', ['-q', '-c', 'qemu:///system'], virshEnvironment());
 */
export interface VirshProcess {
  readonly pid: number | undefined;
  readonly stdin: {
    write(text: string): unknown;
    end(text: string): unknown;
    on(event: 'error', listener: (error: Error) => void): unknown;
  };
  readonly stdout: VirshOutputStream;
  readonly stderr: VirshOutputStream;
  readonly exited: Promise<VirshExit>;
  /** Sends `signal`; after a SIGTERM or SIGINT, a SIGKILL follows if it is still there (see {@link killUntilGone}). */
  kill(signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): void;
}

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
 * virsh's environment: `process.env`, the caller's variables over it (an `undefined` value removes
 * one), then the protocol's.
 *
 * @example
 * virshEnvironment({ LIBVIRT_DEFAULT_URI: 'qemu:///system' }).LC_ALL; // → 'C.UTF-8'
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
 * Starts `virshPath ARGV…` with piped stdin/stdout/stderr and exactly `env`. A virsh that cannot be
 * started is not thrown: `exited` says why (`spawnError`).
 *
 * @example
 * const virsh = spawnVirsh('virsh', ['-q', '-c', 'qemu:///system'], virshEnvironment());
 */
export function spawnVirsh(virshPath: string, argv: readonly string[], env: Readonly<Record<string, string>>): VirshProcess {
  const child = startDetached(virshPath, argv, env);
  const exited = new Promise<VirshExit>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ spawnError: error.code ?? error.message, cause: error }));
    child.once('close', (exitCode: number | null, signal: string | null) => resolve({
      ...(exitCode === null ? {} : { exitCode }),
      ...(signal === null ? {} : { signal }),
    }));
  });
  // a pipe closed by a virsh that died is reported through `exited`, never as an unhandled error
  child.stdout.on('error', () => undefined);
  child.stderr.on('error', () => undefined);
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: heldOutput(child.stdout),
    stderr: heldOutput(child.stderr),
    exited,
    kill: (signal) => killUntilGone(child, signal),
  };
}

/**
 * What virsh prints, kept from its start until the session reads it. A session may adopt a virsh started
 * earlier (see `start-virsh.ts`): one that failed to connect may have printed why and exited by then, and
 * Node drops the output of a child's pipes that nobody listens to when the child exits. The chunks held
 * are handed to the first listener as it is added, before anything printed later.
 *
 * @example
 * const stderr = heldOutput(child.stderr);
 */
function heldOutput(stream: NodeJS.ReadableStream): VirshOutputStream {
  let held: Array<Buffer | string> | undefined = [];
  const listeners: Array<(data: Buffer | string) => void> = [];
  stream.on('data', (data: Buffer | string) => {
    if (held) held.push(data);
    else for (const listener of listeners) listener(data);
  });
  return {
    on(_event, listener) {
      listeners.push(listener);
      if (held) {
        const chunks = held;
        held = undefined;
        for (const data of chunks) listener(data);
      }
      return this;
    },
  };
}

/**
 * Spawns `file ARGV…` with piped stdio and exactly `env`, in its own process group: a terminal's Ctrl-C
 * reaches virt-nested, which finishes the guest being edited through this session; virsh still ends
 * with us, as its stdin closes.
 *
 * @example
 * const child = startDetached('virsh', ['-q'], virshEnvironment());
 */
function startDetached(file: string, argv: readonly string[], env: Readonly<Record<string, string>>): ChildProcessWithoutNullStreams {
  return spawn(file, argv, { stdio: 'pipe', env, detached: true });
}

/**
 * Sends `signal` unless the process has ended; after a SIGTERM (or SIGINT), a SIGKILL follows
 * {@link CLOSE_GRACE_MS} later if it is still there. The session's virsh and the watching one both end
 * this way.
 *
 * @example
 * killUntilGone(child, 'SIGTERM');
 */
export function killUntilGone(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (signal === 'SIGKILL') return;
  const force = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, CLOSE_GRACE_MS);
  force.unref();
  child.once('exit', () => clearTimeout(force));
}
