/**
 * An in-process stand-in for `virsh -q` in interactive mode, speaking the same protocol over in-memory
 * streams: it prints the prompt, echoes each line it reads as readline does, runs the line (a marker
 * line prints `error: vnxN` on stderr and `vnxN` on stdout, as virsh's `echo` does), then prints the
 * next prompt. It reads one line at a time and runs the next only when the one before has finished,
 * like virsh. Plus fake timers that a test fires by hand. The real virsh is tested in session.test.ts.
 */

import { PassThrough, Writable } from 'node:stream';
import type { TransportTimers } from '../../src/virsh/transport-timers.js';
import type { VirshExit, VirshProcess } from '../../src/virsh/virsh-process.js';

export const PROMPT = 'virsh # ';

/** What a command prints. */
export interface FakeReply {
  stdout?: string;
  stderr?: string;
}

export interface FakeVirshOptions {
  /** How virsh starts: the prompt (default), a refused connection, a question, nothing at all, or no process. */
  start?: 'prompt' | 'silent' | { refuse: string; exitCode: number } | { ask: string } | { spawnError: 'ENOENT' | 'EACCES' };
  /** What `uri` prints, without the newline. */
  uri?: string;
  /** Commands by name, over the defaults (`uri`, `echo`, `domstate`, `list`). */
  commands?: Readonly<Record<string, (args: string[]) => FakeReply>>;
  /** Writes what virsh prints in pieces of this many bytes (default: each write whole). */
  chunkBytes?: number;
  /** Reading `quit` does not end it (a virsh that hangs while quitting). */
  ignoreQuit?: boolean;
}

/** Splits a line the way virsh's parser does for the lines `virshCommandLine` writes (plain words and '…' quoting). */
export function splitLine(line: string): string[] {
  const args: string[] = [];
  let current: string | undefined;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] as string;
    if (char === ' ') {
      if (current !== undefined) args.push(current);
      current = undefined;
    } else if (char === "'") {
      const close = line.indexOf("'", index + 1);
      current = (current ?? '') + line.slice(index + 1, close);
      index = close;
    } else if (char === '\\') {
      current = (current ?? '') + (line[index + 1] ?? '');
      index += 1;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (current !== undefined) args.push(current);
  return args;
}

export class FakeVirsh {
  /** Each write to stdin, as written. */
  readonly writes: string[] = [];
  /** The commands it ran (marker lines left out), as argv. */
  readonly ran: string[][] = [];
  /** The signals it was sent. */
  readonly signals: string[] = [];
  readonly process: VirshProcess;
  private readonly stdout = new PassThrough();
  private readonly stderr = new PassThrough();
  private readonly lines: string[] = [];
  private partial = '';
  private running = false;
  private gone = false;
  private held: { name: string; reply?: (reply: FakeReply) => void } | undefined;
  private readonly exit: (exit: VirshExit) => void;
  private readonly commands: Record<string, (args: string[]) => FakeReply>;

  constructor(private readonly options: FakeVirshOptions = {}) {
    const uri = options.uri ?? 'test:///fake';
    this.commands = {
      uri: () => ({ stdout: `${uri}\n` }),
      echo: (args) => ({ stdout: (args[0] === '--' ? args.slice(1) : args).join(' ') }),
      domstate: (args) => (args[1] === 'web-1' ? { stdout: 'running\n\n' } : { stderr: `error: failed to get domain '${args[1]}'\n` }),
      ...options.commands,
    };
    let exit!: (exit: VirshExit) => void;
    const exited = new Promise<VirshExit>((resolve) => {
      exit = resolve;
    });
    this.exit = (how) => {
      if (this.gone) return;
      this.gone = true;
      exit(how);
    };
    const stdin = new Writable({
      decodeStrings: false,
      write: (chunk: string, _encoding, done) => {
        this.writes.push(chunk);
        this.read(chunk);
        done();
      },
      final: (done) => {
        done();
      },
    });
    this.process = {
      pid: 4242,
      stdin,
      stdout: this.stdout,
      stderr: this.stderr,
      exited,
      kill: (signal) => {
        this.signals.push(signal);
        this.exit({ signal });
      },
    };
    setImmediate(() => this.start());
  }

  /** Everything written to stdin so far, as one string. */
  get input(): string {
    return this.writes.join('');
  }

  /** The next run of command `name` waits until {@link finish} (a virsh command that takes its time). */
  hold(name: string): void {
    this.held = { name };
  }

  /** Finishes the held command with `reply`. */
  finish(reply: FakeReply = {}): void {
    const release = this.held?.reply;
    if (release === undefined) throw new Error('no command is held');
    this.held = undefined;
    release(reply);
  }

  /** Whether the held command has started (virsh read its line). */
  get holding(): boolean {
    return this.held?.reply !== undefined;
  }

  /** virsh prints `text` on stderr now (a warning while a command runs). */
  printStderr(text: string): void {
    this.print('stderr', text);
  }

  /** virsh dies on its own (not asked to), after printing `stderr`. */
  die(signal: string, stderr = ''): void {
    if (stderr !== '') this.stderr.write(stderr);
    setImmediate(() => this.exit({ signal }));
  }

  private start(): void {
    const start = this.options.start ?? 'prompt';
    if (start === 'prompt') this.print('stdout', PROMPT);
    else if (start === 'silent') return;
    else if ('refuse' in start) {
      this.print('stderr', start.refuse);
      setImmediate(() => this.exit({ exitCode: start.exitCode }));
    } else if ('ask' in start) this.print('stdout', start.ask);
    else this.exit({ spawnError: start.spawnError, cause: Object.assign(new Error(`spawn virsh ${start.spawnError}`), { code: start.spawnError }) });
  }

  private read(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() as string;
    this.lines.push(...parts);
    if (!this.running) setImmediate(() => this.next());
  }

  /** Runs the next line, as virsh does once the one before it has finished. */
  private next(): void {
    if (this.running || this.gone) return;
    const line = this.lines.shift();
    if (line === undefined) return;
    this.running = true;
    this.print('stdout', `${line}\n`);
    const marker = /^echo --err vnx'(\w+)'; echo vnx'\w+'$/.exec(line);
    if (marker !== null) {
      this.print('stderr', `error: vnx${marker[1]}\n`);
      this.done({ stdout: `vnx${marker[1]}` });
      return;
    }
    const args = splitLine(line);
    if (args[0] === 'quit') {
      if (!this.options.ignoreQuit) setImmediate(() => this.exit({ exitCode: 0 }));
      return;
    }
    this.ran.push(args);
    if (this.held !== undefined && this.held.name === args[0]) {
      this.held.reply = (reply) => this.done(reply);
      return;
    }
    const command = this.commands[args[0] ?? ''];
    this.done(command === undefined ? { stderr: `error: unknown command: '${args[0]}'\n` } : command(args.slice(1)));
  }

  private done(reply: FakeReply): void {
    if (this.gone) return;
    if (reply.stderr) this.print('stderr', reply.stderr);
    this.print('stdout', `${reply.stdout ?? ''}${PROMPT}`);
    this.running = false;
    setImmediate(() => this.next());
  }

  private print(stream: 'stdout' | 'stderr', text: string): void {
    if (this.gone || text === '') return;
    const target = stream === 'stdout' ? this.stdout : this.stderr;
    const bytes = Buffer.from(text, 'utf8');
    const size = this.options.chunkBytes ?? bytes.length;
    for (let at = 0; at < bytes.length; at += size) target.write(bytes.subarray(at, at + size));
  }
}

/** Timers that fire only when the test says so. */
export class FakeTimers implements TransportTimers {
  private nextId = 1;
  private readonly armed = new Map<number, { ms: number; fire: () => void }>();

  setTimeout(fire: () => void, ms: number): unknown {
    const id = this.nextId;
    this.nextId += 1;
    this.armed.set(id, { ms, fire });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.armed.delete(handle as number);
  }

  /** The duration of each armed timer, oldest first. */
  get pending(): number[] {
    return [...this.armed.values()].map((timer) => timer.ms);
  }

  /** Fires the oldest timer armed for `ms`. */
  fire(ms: number): void {
    const found = [...this.armed.entries()].find(([, timer]) => timer.ms === ms);
    if (found === undefined) throw new Error(`no timer of ${ms} ms is armed (armed: ${JSON.stringify(this.pending)})`);
    this.armed.delete(found[0]);
    found[1].fire();
  }
}

/** Lets the in-memory streams and the fake's steps run: a few turns of the event loop. */
export async function settle(turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Deterministic markers: n1, n2, … */
export function counterNonce(): () => string {
  let count = 0;
  return () => {
    count += 1;
    return `n${count}`;
  };
}

/** The bytes the transport writes for one command line with marker nonce `nonce`. */
export function framed(line: string, nonce: string): string {
  return `${line}\necho --err vnx'${nonce}'; echo vnx'${nonce}'\n`;
}
