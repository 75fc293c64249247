/**
 * The transport under a virsh session: one virsh process driven through its interactive shell, with
 * an explicit phase (`connecting` → `open` → `closing` → `ended`). It owns the abort signal, `close` and
 * the process's end; the first prompt is awaited by a {@link Handshake}, and the commands themselves
 * wait and run in a {@link CommandQueue}. Everything that touches the world (the process and its streams, the timers, the
 * markers' randomness) is passed in, so all of it also runs over an in-memory stream; `openVirsh`
 * wires in the real virsh.
 */

import { randomBytes } from 'node:crypto';
import type { VirtNestedError } from '../errors.js';
import { virshCommandLine } from './command-line.js';
import { commandError, commandFailed } from './command-error.js';
import { CommandQueue, type QueuedCommand } from './command-queue.js';
import { FrameReader } from './framing.js';
import { startHandshake, uriFailure, type Handshake } from './handshake.js';
import type { VirshOutput, VirshRunOptions, VirshRunner } from './runner.js';
import {
  abortedError,
  assertTimeout,
  closedError,
  endedError,
  exitError,
  refusedCommandError,
  reproducingCommand,
  timeoutErrors,
  type SessionNames,
} from './session-errors.js';
import { REAL_TIMERS, type TransportTimers } from './transport-timers.js';
import { CLOSE_GRACE_MS, type VirshExit, type VirshProcess } from './virsh-process.js';

/**
 * Options of {@link openTransport}.
 *
 * @example
 * await openTransport({ process, names, timeoutMs: 30_000, signal });
 */
export interface TransportOptions {
  readonly process: VirshProcess;
  /** How messages name virsh and the URI. */
  readonly names: SessionNames;
  /** Milliseconds the connection and each command may take unless the command says otherwise. */
  readonly timeoutMs: number;
  /** Aborts the session: see `OpenVirshOptions.signal`. */
  readonly signal?: AbortSignal;
  /** Default: Node's own timers. */
  readonly timers?: TransportTimers;
  /** Makes each command's marker; letters and digits. Default: 12 random bytes in hex. */
  readonly nonce?: () => string;
}

/**
 * Where a transport is in its life: connecting (waiting for virsh's first prompt), open (taking
 * commands), closing (finishing the queued ones before `quit`), ended (virsh quit, exited, timed out
 * or was aborted).
 *
 * @example
 * if (transport.phase === 'open') await transport.run(['uri']);
 */
export type TransportPhase = 'connecting' | 'open' | 'closing' | 'ended';

/**
 * Starts a transport over a virsh process that was just started: waits for virsh's first prompt, then
 * asks `virsh uri` for the canonical URI. Throws what the connection failed with (see `openVirsh`),
 * once the process is gone.
 *
 * @example
 * const transport = await openTransport({ process: spawnVirsh(path, argv, env), names, timeoutMs: 30_000 });
 * try { console.log((await transport.run(['domstate', '--domain', 'web-1'])).stdout); } finally { await transport.close(); }
 */
export async function openTransport(options: TransportOptions): Promise<VirshTransport> {
  const transport = new VirshTransport(options);
  await transport.connect();
  return transport;
}

/**
 * One virsh process driven as a session: commands run one after another in the order asked for, each
 * written when the one before it finished, or at once with `pipeline: true`. Made by {@link openTransport}.
 *
 * @example
 * const { stdout } = await transport.run(['domstate', '--domain', 'web-1'], { timeoutMs: 5_000 });
 */
export class VirshTransport implements VirshRunner {
  private currentPhase: TransportPhase = 'connecting';
  private canonicalUri: string;
  private aborted = false;
  private processGone = false;
  /** Why the session ended early (timeout, abort, virsh exiting); later commands get its code. */
  private endedBy: VirtNestedError | undefined;
  private closing: Promise<void> | undefined;
  private readonly reader = new FrameReader();
  private readonly queue: CommandQueue;
  private readonly handshake: Handshake;
  private readonly exited: Promise<void>;
  private readonly process: VirshProcess;
  private readonly names: SessionNames;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly timers: TransportTimers;
  private readonly abortListener = (): void => this.onAbort();

  /** Use {@link openTransport}: a transport takes commands only after its handshake. */
  constructor(options: TransportOptions) {
    assertTimeout(options.timeoutMs);
    this.process = options.process;
    this.names = options.names;
    this.timeoutMs = options.timeoutMs;
    this.signal = options.signal;
    this.timers = options.timers ?? REAL_TIMERS;
    this.canonicalUri = options.names.shownUri;
    this.queue = new CommandQueue({
      write: (input) => this.process.stdin.write(input),
      take: (frame) => this.reader.take(frame),
      timers: this.timers,
      nonce: options.nonce ?? (() => randomBytes(12).toString('hex')),
      onTimeout: (command) => this.onTimeout(command),
      settle: (command, output) => this.settle(command, output),
    });
    this.handshake = startHandshake({ process: this.process, reader: this.reader, names: this.names, timers: this.timers, timeoutMs: this.timeoutMs });
    this.exited = this.process.exited.then((exit) => this.onExit(exit));
    this.process.stdout.on('data', (data) => this.onData('stdout', data));
    this.process.stderr.on('data', (data) => this.onData('stderr', data));
    // virsh may exit (a refused connection) before reading what was written; its exit says why.
    this.process.stdin.on('error', () => undefined);
    this.signal?.addEventListener('abort', this.abortListener, { once: true });
    if (this.signal?.aborted) this.onAbort();
  }

  /** Where the session is in its life. */
  get phase(): TransportPhase {
    return this.currentPhase;
  }

  /** The canonical URI once connected (`virsh uri`); before that, the URI as the caller named it. */
  get uri(): string {
    return this.canonicalUri;
  }

  /** The virsh process id. */
  get pid(): number | undefined {
    return this.process.pid;
  }

  /** The handshake: virsh's first prompt within the timeout, then `virsh uri`. Called once, by {@link openTransport}. */
  async connect(): Promise<void> {
    try {
      await this.handshake.wait();
    } catch (error) {
      this.currentPhase = 'ended';
      await this.exited;
      throw error;
    }
    this.currentPhase = 'open';
    try {
      this.canonicalUri = (await this.run(['uri'])).stdout.replace(/\n+$/, '');
    } catch (error) {
      await this.close();
      throw uriFailure(this.names, error, this.reader.unclaimedStderr());
    }
  }

  /**
   * Runs one command (see `VirshSession.run`): queued behind the others, written when virsh is free
   * (or at once with `pipeline`), settled with its output or its typed error.
   */
  run(args: readonly string[], options: VirshRunOptions = {}): Promise<VirshOutput> {
    return new Promise<VirshOutput>((resolve, reject) => {
      const name = args[0] ?? '';
      const refused = refusedCommandError(this.canonicalUri, name);
      if (refused !== undefined) throw refused;
      const line = virshCommandLine(args);
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      assertTimeout(timeoutMs);
      if (this.aborted) throw abortedError(this.names, this.canonicalUri, args);
      if (this.currentPhase === 'ended' && this.endedBy !== undefined) throw endedError(this.names, this.canonicalUri, args, this.endedBy);
      if (this.currentPhase !== 'open') throw closedError(this.canonicalUri, name);
      this.queue.add({ args: [...args], line, timeoutMs, pipeline: Boolean(options.pipeline), resolve, reject });
      this.dispatch();
    });
  }

  /** Lets queued commands finish, sends `quit`, and kills virsh if it has not exited after {@link CLOSE_GRACE_MS}. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.currentPhase === 'open') this.currentPhase = 'closing';
      if (!this.queue.idle) await this.queue.whenIdle();
      if (this.currentPhase === 'closing') {
        this.currentPhase = 'ended';
        this.endedBy = undefined;
        // `quit` (not a signal) so that virsh closes the connection cleanly: a client that just
        // disappears makes libvirtd log "End of file while reading data" as an error.
        this.process.stdin.end('quit\n');
      }
      let timer: unknown;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = this.timers.setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS);
      });
      if ((await Promise.race([this.exited.then(() => 'exited' as const), graceOver])) === 'timeout') this.process.kill('SIGKILL');
      this.timers.clearTimeout(timer);
      await this.exited;
    })();
    return this.closing;
  }

  /** Writes what virsh may run now; once virsh has nothing left, wakes `close()` and ends an aborted session. */
  private dispatch(): void {
    if (this.currentPhase === 'connecting' || this.currentPhase === 'ended') return;
    const wrote = this.queue.write();
    if (!this.queue.busy) {
      this.queue.notifyIdle();
      if (this.aborted) void this.close();
      return;
    }
    if (wrote) this.pump();
  }

  private onData(stream: 'stdout' | 'stderr', data: Buffer | string): void {
    this.reader.append(stream, data);
    this.pump();
  }

  private pump(): void {
    if (this.currentPhase === 'connecting') this.handshake.read();
    else if (this.queue.read()) this.dispatch();
  }

  private settle(command: QueuedCommand, output: VirshOutput): void {
    if (commandFailed(output.stderr)) command.reject(commandError(reproducingCommand(this.names, this.canonicalUri, command.args), command.args, this.canonicalUri, output.stderr));
    else command.resolve(output);
  }

  /** Ends the session for `reason`: the running command gets `errorForRunning` (or `reason`), every other one `reason`, naming it. */
  private end(reason: VirtNestedError, errorForRunning: Error = reason): void {
    if (this.currentPhase === 'ended') return;
    this.currentPhase = 'ended';
    this.endedBy = reason;
    this.queue.rejectAll(errorForRunning, (command) => endedError(this.names, this.canonicalUri, command.args, reason));
    if (!this.processGone) this.process.kill('SIGTERM');
  }

  private onTimeout(command: QueuedCommand): void {
    if (this.queue.running !== command) return;
    const { running, ended } = timeoutErrors(this.names, this.canonicalUri, command.args, command.timeoutMs, this.reader.unclaimedStderr());
    this.end(ended, running);
  }

  private onAbort(): void {
    this.aborted = true;
    if (this.currentPhase === 'connecting') {
      this.process.kill('SIGKILL');
      return;
    }
    this.queue.rejectWaiting((command) => abortedError(this.names, this.canonicalUri, command.args));
    if (!this.queue.busy) void this.close();
  }

  private onExit(exit: VirshExit): void {
    this.processGone = true;
    this.signal?.removeEventListener('abort', this.abortListener);
    if (this.currentPhase === 'connecting') {
      this.currentPhase = 'ended';
      this.handshake.exited(exit, this.aborted);
      return;
    }
    this.end(exitError(this.names, this.canonicalUri, exit, this.reader.unclaimedStderr()));
  }
}
