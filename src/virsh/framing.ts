/**
 * Framing: how one long-lived virsh tells us where each command's output ends.
 *
 * virsh in interactive mode (stdin not a terminal) reads one command per line. For every line it prints
 * the prompt and readline's echo of the line on stdout (`virsh # LINE\n`), then the command's output;
 * libvirt errors go to stderr as `error: …` lines. After each command we send one more line,
 * `echo --err vnx'N'; echo vnx'N'`, with a fresh random N:
 * - on stderr it prints `error: vnxN\n` after everything the command wrote there;
 * - on stdout it prints `vnxN` (no newline) after the command's output and the marker line's echo.
 * The echoes show `vnx'N'`, so the bare token `vnxN` cannot be found before the real marker. The stdout
 * of one command is therefore `virsh # LINE\n` + output + `virsh # MARKER\n` + `vnxN`, and the bytes
 * after `vnxN` (the next prompt) belong to the next command.
 */

import type { VirshOutput } from './runner.js';

/**
 * virsh's read-write prompt; virsh prints it before reading each line.
 *
 * @example
 * stdout.startsWith(VIRSH_PROMPT); // virsh is connected and waiting for a command
 */
export const VIRSH_PROMPT = 'virsh # ';

/**
 * One command as written to virsh's stdin, with the markers that end its output.
 *
 * @example
 * const frame: VirshFrame = frameCommand('uri', 'f00'); stdin.write(frame.input);
 */
export interface VirshFrame {
  /** The command line, without the newline. */
  readonly line: string;
  /** The marker line that follows it, without the newline. */
  readonly markerLine: string;
  /** What the marker prints: the end of stdout, and (followed by a newline) the end of stderr. */
  readonly token: string;
  /** The exact bytes to write to virsh's stdin. */
  readonly input: string;
}

/**
 * Frames a command line (see {@link virshCommandLine}) with a marker made from `nonce` (letters and
 * digits only; use fresh random bytes per command).
 *
 * @example
 * frameCommand('uri', '1f2e').input; // → "uri\necho --err vnx'1f2e'; echo vnx'1f2e'\n"
 */
export function frameCommand(line: string, nonce: string): VirshFrame {
  if (!/^[A-Za-z0-9]+$/.test(nonce)) throw new RangeError(`nonce must be letters and digits, got ${JSON.stringify(nonce)}`);
  const markerLine = `echo --err vnx'${nonce}'; echo vnx'${nonce}'`;
  return { line, markerLine, token: `vnx${nonce}`, input: `${line}\n${markerLine}\n` };
}

/**
 * Where the frame's stdout ends in `stdout` (the index just past the token), or -1 while it has not
 * arrived. `from` lets a caller skip bytes it has already searched.
 *
 * @example
 * const end = findStdoutEnd(buffer, frame, 0); if (end >= 0) chunk = buffer.subarray(0, end);
 */
export function findStdoutEnd(stdout: Buffer, frame: VirshFrame, from = 0): number {
  const at = stdout.indexOf(frame.token, Math.max(0, from), 'utf8');
  return at < 0 ? -1 : at + Buffer.byteLength(frame.token);
}

/**
 * Where the frame's stderr ends in `stderr`: `commandEnd` is where the marker line starts (the
 * command's own stderr is everything before it), `end` is just past the marker line. Undefined while
 * the marker has not arrived.
 *
 * @example
 * const found = findStderrEnd(buffer, frame); if (found) errors = buffer.subarray(0, found.commandEnd);
 */
export function findStderrEnd(stderr: Buffer, frame: VirshFrame, from = 0): { commandEnd: number; end: number } | undefined {
  const needle = `${frame.token}\n`;
  const at = stderr.indexOf(needle, Math.max(0, from), 'utf8');
  if (at < 0) return undefined;
  const commandEnd = at === 0 ? 0 : stderr.lastIndexOf(0x0a, at - 1) + 1;
  return { commandEnd, end: at + Buffer.byteLength(needle) };
}

/**
 * The command's own output from one framed stdout chunk: strips the prompt and echo of the command line
 * and of the marker line, and the token.
 *
 * The echo is exact when virsh runs with the environment `openVirsh` gives it (a `dumb` terminal
 * that is 100000 columns wide, `C.UTF-8`, no inputrc). Should readline still alter it (a missing
 * `C.UTF-8` locale shows `ü` as `\303\274`; a line wider than the terminal is scrolled), it is still a
 * single line, so the command's output starts after the first newline.
 *
 * @example
 * commandStdout("virsh # uri\nqemu:///system\nvirsh # echo --err vnx'1'; echo vnx'1'\nvnx1", frameCommand('uri', '1'));
 * // → "qemu:///system\n"
 */
export function commandStdout(chunk: string, frame: VirshFrame): string {
  let end = chunk.endsWith(frame.token) ? chunk.length - frame.token.length : chunk.length;
  const markerEcho = `${VIRSH_PROMPT}${frame.markerLine}\n`;
  if (end >= markerEcho.length && chunk.startsWith(markerEcho, end - markerEcho.length)) {
    end -= markerEcho.length;
  } else {
    const prompt = chunk.lastIndexOf(VIRSH_PROMPT, end - 1);
    if (prompt > 0) end = prompt;
  }
  const lineEcho = `${VIRSH_PROMPT}${frame.line}\n`;
  let start: number;
  if (chunk.startsWith(lineEcho)) {
    start = lineEcho.length;
  } else {
    const newline = chunk.indexOf('\n');
    start = newline < 0 || newline >= end ? end : newline + 1;
  }
  return chunk.slice(start, Math.max(start, end));
}

/**
 * The libvirt messages in a command's stderr: each `error: ` line without that prefix, with the lines
 * that continue it (a schema validation error names the offending element on the next line) joined by
 * `: `. virsh prints at least one for every failed command, and none for a command that succeeded.
 *
 * @example
 * libvirtErrors("error: failed to get domain 'web-1'\n"); // → ["failed to get domain 'web-1'"]
 */
export function libvirtErrors(stderr: string): string[] {
  const messages: string[] = [];
  let inError = false;
  for (const line of stderr.split('\n')) {
    if (line.startsWith('error: ')) {
      messages.push(line.slice('error: '.length).trim());
      inError = true;
    } else if (line.trim() === '') {
      inError = false;
    } else if (inError) {
      messages[messages.length - 1] += `: ${line.trim()}`;
    }
  }
  return messages;
}

/**
 * What virsh has printed on stdout before its first prompt: nothing yet (`'waiting'`), the prompt
 * (`'prompt'`: connected), or a question from libvirt's authentication callback, which nobody will
 * answer (`{ asked }`, trimmed to 200 characters).
 *
 * @example
 * const reader = new FrameReader(); reader.append('stdout', 'virsh # '); reader.greeting(); // → 'prompt'
 */
export type VirshGreeting = 'waiting' | 'prompt' | { readonly asked: string };

/**
 * The bytes virsh printed and nobody has claimed yet, cut into one command's output at a time. The
 * output of several pipelined commands may arrive in one chunk, and one command's in many.
 *
 * @example
 * const reader = new FrameReader();
 * reader.append('stdout', `virsh # uri\nqemu:///system\nvirsh # ${frame.markerLine}\n${frame.token}`);
 * reader.append('stderr', `error: ${frame.token}\n`);
 * reader.take(frame); // → { stdout: 'qemu:///system\n', stderr: '' }
 */
export class FrameReader {
  private stdout: Buffer = Buffer.alloc(0);
  private stderr: Buffer = Buffer.alloc(0);
  /** The frame the search offsets belong to: bytes already searched for its token are not searched again. */
  private searchedFor: VirshFrame | undefined;
  private stdoutSearched = 0;
  private stderrSearched = 0;

  /** Adds what virsh printed on one stream. */
  append(stream: 'stdout' | 'stderr', data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (stream === 'stdout') this.stdout = this.stdout.length === 0 ? bytes : Buffer.concat([this.stdout, bytes]);
    else this.stderr = this.stderr.length === 0 ? bytes : Buffer.concat([this.stderr, bytes]);
  }

  /** Reads the start of stdout before the first command; it leaves the prompt there, as the first frame's start. */
  greeting(): VirshGreeting {
    if (this.stdout.length === 0) return 'waiting';
    if (this.stdout.length >= VIRSH_PROMPT.length && this.stdout.subarray(0, VIRSH_PROMPT.length).toString('utf8') === VIRSH_PROMPT) return 'prompt';
    const text = this.stdout.toString('utf8');
    if (VIRSH_PROMPT.startsWith(text)) return 'waiting';
    return { asked: text.trim().slice(0, 200) };
  }

  /** The output of `frame` (the oldest command not yet taken), and removes it; undefined while it is incomplete. */
  take(frame: VirshFrame): VirshOutput | undefined {
    if (this.searchedFor !== frame) {
      this.searchedFor = frame;
      this.stdoutSearched = 0;
      this.stderrSearched = 0;
    }
    const stdoutEnd = findStdoutEnd(this.stdout, frame, this.stdoutSearched);
    if (stdoutEnd < 0) this.stdoutSearched = Math.max(0, this.stdout.length - frame.token.length);
    const stderrEnd = findStderrEnd(this.stderr, frame, this.stderrSearched);
    if (stderrEnd === undefined) this.stderrSearched = Math.max(0, this.stderr.length - frame.token.length - 1);
    if (stdoutEnd < 0 || stderrEnd === undefined) return undefined;

    const chunk = this.stdout.subarray(0, stdoutEnd).toString('utf8');
    this.stdout = this.stdout.subarray(stdoutEnd);
    const errors = this.stderr.subarray(0, stderrEnd.commandEnd).toString('utf8');
    this.stderr = this.stderr.subarray(stderrEnd.end);
    this.searchedFor = undefined;
    return { stdout: commandStdout(chunk, frame), stderr: errors };
  }

  /** The stderr not yet claimed by a command: what virsh said while connecting, timing out or exiting. */
  unclaimedStderr(): string {
    return this.stderr.toString('utf8');
  }
}

