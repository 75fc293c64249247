/**
 * The first step of a transport: from a virsh just started to its first prompt. Before that prompt
 * virsh prints only what libvirt's auth callback asks for, so what it prints is the prompt, a question
 * virt-nested cannot answer, or nothing within the timeout; a virsh that exits first says why in its exit.
 * The transport (`transport.ts`) feeds it virsh's output and exit while it is connecting.
 */

import { VirshError, VirtNestedError } from '../errors.js';
import type { FrameReader } from './framing.js';
import { libvirtErrors } from './framing.js';
import { connectionError, unreachableError, type SessionNames } from './session-errors.js';
import { armTimer, type TransportTimers } from './transport-timers.js';
import type { VirshExit, VirshProcess } from './virsh-process.js';

/**
 * What a handshake needs: the process, the reader its output goes into, and how long to wait.
 *
 * @example
 * const handshake = startHandshake({ process, reader, names, timers: REAL_TIMERS, timeoutMs: 30_000 });
 */
export interface HandshakeOptions {
  readonly process: VirshProcess;
  readonly reader: FrameReader;
  readonly names: SessionNames;
  readonly timers: TransportTimers;
  readonly timeoutMs: number;
}

/**
 * A handshake under way. Made by {@link startHandshake}.
 *
 * @example
 * await handshake.wait(); // virsh printed its first prompt
 */
export interface Handshake {
  /**
   * Resolves at virsh's first prompt, within the timeout (armed now); rejects with `LIBVIRT_UNREACHABLE`,
   * `LIBVIRT_MISSING` or `ABORTED` otherwise. virsh is killed when the timeout passes or libvirt asks a question.
   */
  wait(): Promise<void>;
  /** Reads what virsh printed so far; the transport calls it on each output while connecting. */
  read(): void;
  /** virsh ended before its first prompt (`aborted`: because the session's signal killed it). */
  exited(exit: VirshExit, aborted: boolean): void;
}

/**
 * Starts watching a virsh process for its first prompt.
 *
 * @example
 * const handshake = startHandshake(options);
 * process.stdout.on('data', (data) => { reader.append('stdout', data); handshake.read(); });
 * await handshake.wait();
 */
export function startHandshake(options: HandshakeOptions): Handshake {
  const { process, reader, names, timers, timeoutMs } = options;
  let settled = false;
  let resolveGreeted!: () => void;
  let rejectGreeted!: (error: Error) => void;
  const greeted = new Promise<void>((resolve, reject) => {
    resolveGreeted = resolve;
    rejectGreeted = reject;
  });
  const succeed = (): void => {
    settled = true;
    resolveGreeted();
  };
  const fail = (error: Error, kill: boolean): void => {
    settled = true;
    rejectGreeted(error);
    if (kill) process.kill('SIGKILL');
  };
  return {
    async wait() {
      const timer = armTimer(timers, timeoutMs, () => {
        if (!settled) fail(unreachableError(names, `no answer within ${timeoutMs} ms`, reader.unclaimedStderr()), true);
      });
      try {
        await greeted;
      } finally {
        timers.clearTimeout(timer);
      }
    },
    read() {
      if (settled) return;
      const greeting = reader.greeting();
      if (greeting === 'waiting') return;
      if (greeting === 'prompt') {
        succeed();
        return;
      }
      const reason = `libvirt asked ${JSON.stringify(greeting.asked)}, which virt-nested cannot answer; set up key or certificate authentication for it`;
      fail(unreachableError(names, reason, reader.unclaimedStderr()), true);
    },
    exited(exit, aborted) {
      if (settled) return;
      const stderr = reader.unclaimedStderr();
      fail(aborted ? new VirtNestedError('ABORTED', `connecting to libvirt at ${names.shownUri} was aborted`) : connectionError(names, exit, stderr), false);
    },
  };
}

/**
 * What a failed `virsh uri` right after the prompt means: libvirt's refusal of the connection
 * (`LIBVIRT_UNREACHABLE`, keeping the command's error as its cause); any other error stays as it is.
 *
 * @example
 * throw uriFailure(names, error, reader.unclaimedStderr());
 */
export function uriFailure(names: SessionNames, error: unknown, stderr: string): unknown {
  if (!(error instanceof VirshError) || error.code !== 'VIRSH_FAILED') return error;
  const reason = libvirtErrors(error.stderr).join(': ') || error.message;
  return unreachableError(names, reason, stderr, { cause: error });
}
