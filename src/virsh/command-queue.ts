/**
 * The commands of one virsh session, from asked to settled: waiting (not yet written to virsh), then
 * written (virsh runs the first of them; pipelined ones wait in virsh's stdin behind it), then settled
 * with their output as the framing cuts it. Only the command virsh runs has a timer.
 */

import { frameCommand, type VirshFrame } from './framing.js';
import type { VirshOutput } from './runner.js';
import { armTimer, type TransportTimers } from './transport-timers.js';

/**
 * One command asked of the session, with the line that runs it and how to settle its promise.
 *
 * @example
 * queue.add({ args: ['uri'], line: 'uri', timeoutMs: 30_000, pipeline: false, resolve, reject });
 */
export interface QueuedCommand {
  readonly args: readonly string[];
  readonly line: string;
  readonly timeoutMs: number;
  readonly pipeline: boolean;
  readonly resolve: (output: VirshOutput) => void;
  readonly reject: (error: Error) => void;
}

/**
 * What the queue needs of its transport.
 *
 * @example
 * new CommandQueue({ write: (input) => stdin.write(input), take: (frame) => reader.take(frame), timers, nonce, onTimeout, settle });
 */
export interface CommandChannel {
  /** Writes bytes to virsh's stdin. */
  write(input: string): void;
  /** The complete output of `frame`, or undefined while it has not all arrived. */
  take(frame: VirshFrame): VirshOutput | undefined;
  readonly timers: TransportTimers;
  /** A fresh marker nonce (letters and digits). */
  nonce(): string;
  /** The running command did not finish within its `timeoutMs`. */
  onTimeout(command: QueuedCommand): void;
  /** Resolves or rejects a finished command from its output. */
  settle(command: QueuedCommand, output: VirshOutput): void;
}

interface Written {
  readonly command: QueuedCommand;
  readonly frame: VirshFrame;
  timer: unknown;
}

/**
 * The queue of one session. It writes and settles; when to stop (close, abort, timeout, exit) is the
 * transport's to say.
 *
 * @example
 * queue.add(command); if (queue.write()) queue.read();
 */
export class CommandQueue {
  private readonly waiting: QueuedCommand[] = [];
  private readonly written: Written[] = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly channel: CommandChannel) {}

  /** No command waits or runs. */
  get idle(): boolean {
    return this.waiting.length === 0 && this.written.length === 0;
  }

  /** Whether virsh has a command of ours to run. */
  get busy(): boolean {
    return this.written.length > 0;
  }

  /** The command virsh runs now. */
  get running(): QueuedCommand | undefined {
    return this.written[0]?.command;
  }

  add(command: QueuedCommand): void {
    this.waiting.push(command);
  }

  /** Writes the next command when virsh has none left, and pipelined ones without waiting; whether it wrote any. */
  write(): boolean {
    let wrote = false;
    while (this.waiting.length > 0 && (this.written.length === 0 || (this.waiting[0] as QueuedCommand).pipeline)) {
      const command = this.waiting.shift() as QueuedCommand;
      const entry: Written = { command, frame: frameCommand(command.line, this.channel.nonce()), timer: undefined };
      this.written.push(entry);
      if (this.written.length === 1) this.startHead();
      this.channel.write(entry.frame.input);
      wrote = true;
    }
    return wrote;
  }

  /** Settles every written command whose output is complete, oldest first; whether any was. */
  read(): boolean {
    let finished = false;
    for (let head = this.written[0]; head !== undefined; head = this.written[0]) {
      const output = this.channel.take(head.frame);
      if (output === undefined) break;
      this.channel.timers.clearTimeout(head.timer);
      this.written.shift();
      this.startHead();
      this.channel.settle(head.command, output);
      finished = true;
    }
    return finished;
  }

  /** Rejects the commands not yet written. */
  rejectWaiting(errorFor: (command: QueuedCommand) => Error): void {
    for (const command of this.waiting.splice(0)) command.reject(errorFor(command));
  }

  /** Rejects every command: the running one with `runningError`, the others with `errorFor`. */
  rejectAll(runningError: Error, errorFor: (command: QueuedCommand) => Error): void {
    for (const [index, { command, timer }] of this.written.splice(0).entries()) {
      this.channel.timers.clearTimeout(timer);
      command.reject(index === 0 ? runningError : errorFor(command));
    }
    this.rejectWaiting(errorFor);
    this.notifyIdle();
  }

  /** Resolves once no command waits or runs. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Wakes {@link whenIdle}'s callers when the queue is idle. */
  notifyIdle(): void {
    if (!this.idle) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** The first written command is now the one virsh runs: its timeout starts. */
  private startHead(): void {
    const head = this.written[0];
    if (head !== undefined) head.timer = armTimer(this.channel.timers, head.command.timeoutMs, () => this.channel.onTimeout(head.command));
  }
}
