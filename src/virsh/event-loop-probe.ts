/**
 * Whether a watching virsh has registered its event callback: it prints nothing when it has, but its
 * main thread then sits in `read()` on the pipe of its event loop (`vshEventWait`), which
 * `/proc/PID/syscall` shows. Before that it blocks in `pselect6` on stdin (waiting for the command
 * line) or in `poll`/`futex` (waiting for libvirtd's reply to the registration); so a main thread in
 * `read` on a pipe other than stdin proves the registration is in place. Linux only; elsewhere, or when
 * `/proc` does not let us look, the answer is "cannot tell" and the caller falls back to a grace period.
 */
import { readFile, readlink } from 'node:fs/promises';

/** The number of the `read` system call, by the architectures Node reports (`process.arch`). */
const READ_SYSCALL: Readonly<Partial<Record<string, number>>> = { x64: 0, arm64: 63, riscv64: 63, loong64: 63 };

/**
 * Where the probe looks: `/proc` and this machine's architecture unless a test says otherwise.
 *
 * @example
 * const where: ProbeSystem = { proc: '/proc', arch: process.arch };
 */
export interface ProbeSystem {
  readonly proc: string;
  readonly arch: string;
}

const THIS_SYSTEM: ProbeSystem = { proc: '/proc', arch: process.arch };

/**
 * True when the main thread of process `pid` is blocked reading a pipe other than its stdin (a virsh
 * that did that is in its event loop), false when it is not (yet), undefined when this cannot be told
 * here (not Linux, an architecture whose `read` number is not known, `/proc` not readable).
 *
 * @example
 * await inEventLoop(watcher.pid) // true once `virsh event --loop` has registered its callback
 */
export async function inEventLoop(pid: number, system: ProbeSystem = THIS_SYSTEM): Promise<boolean | undefined> {
  const read = READ_SYSCALL[system.arch];
  if (read === undefined) return undefined;
  let fields: string[];
  try {
    fields = (await readFile(`${system.proc}/${pid}/syscall`, 'utf8')).trim().split(' ');
  } catch {
    return undefined;
  }
  // "running" (on a CPU now), "-1 SP PC" (not in a system call), or "NR ARG0 … SP PC"
  if (Number(fields[0]) !== read || fields.length < 2) return false;
  const fd = Number.parseInt(fields[1] as string, 16);
  if (!(fd > 0)) return false;
  const target = await readlink(`${system.proc}/${pid}/fd/${fd}`).catch(() => '');
  return target.startsWith('pipe:');
}
