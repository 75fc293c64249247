/**
 * Where a virsh started by virt-nested keeps its readline history. virsh writes
 * `$XDG_CACHE_HOME/libvirt/virsh/history` when it quits (even with `VIRSH_HISTSIZE=0` it still creates
 * the directory and an empty file), so the history cannot be switched off; it is sent to a private
 * directory instead. Each run gets one under a fixed parent per user, named for the process that made
 * it: a run killed with SIGKILL cannot remove its own, so the next run removes those of dead processes.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processIsAlive } from '../process-alive.js';

/** The parent of every private history directory of this user: `$TMPDIR/virt-nested-virsh-UID`. */
export function historyParent(uid: number | undefined = process.getuid?.()): string {
  return join(tmpdir(), `virt-nested-virsh-${uid ?? 'user'}`);
}

/**
 * A parent only this user can enter: an existing one is used only when it is a real directory (not a
 * link) owned by this user with no permissions for anyone else, so nobody can plant a link in it.
 */
function privateParent(parent: string): boolean {
  try {
    mkdirSync(parent, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  try {
    const info = lstatSync(parent);
    return info.isDirectory() && info.uid === process.getuid?.() && (info.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Removes the directories of processes that no longer run (killed before they could remove them). */
function removeStale(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (pid > 0 && pid !== process.pid && !processIsAlive(pid)) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Makes a fresh private directory for one virsh's history (removing those left by killed runs first), or
 * returns undefined when none can be made (virsh then uses the user's own history).
 *
 * @example
 * const dir = makeHistoryDir(); // '/tmp/virt-nested-virsh-0/4242-a1B2c3'
 */
export function makeHistoryDir(parent: string = historyParent()): string | undefined {
  try {
    if (privateParent(parent)) {
      removeStale(parent);
      return mkdtempSync(join(parent, `${process.pid}-`));
    }
    // someone else's or a link: a directory of our own beside it, as private, but not cleaned after SIGKILL
    return mkdtempSync(`${parent}-`);
  } catch {
    return undefined;
  }
}

/**
 * Removes a directory made by {@link makeHistoryDir}; never throws.
 *
 * @example
 * removeHistoryDir(dir);
 */
export function removeHistoryDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
