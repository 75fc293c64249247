/**
 * The backup directory: where it is, the file-system calls made in it, and making it (0700) with what
 * killed runs left in it removed.
 */
import * as fsPromises from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AtomicWriteFs } from '../fs/atomic-write.js';
import { processIsAlive } from '../process-alive.js';

/**
 * Where backups go: `$VIRT_NESTED_BACKUP_DIR`, else `/var/lib/virt-nested/backups` for root, else
 * `$XDG_STATE_HOME/virt-nested/backups` (default `~/.local/state/virt-nested/backups`).
 *
 * @example
 * defaultBackupDir(process.env) // '/var/lib/virt-nested/backups'
 */
export function defaultBackupDir(env: NodeJS.ProcessEnv, uid: number | undefined = process.getuid?.()): string {
  if (env['VIRT_NESTED_BACKUP_DIR']) return env['VIRT_NESTED_BACKUP_DIR'];
  if (uid === 0) return '/var/lib/virt-nested/backups';
  const state = env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
  return join(state, 'virt-nested', 'backups');
}

/** The file-system calls backups make; `node:fs/promises` is one. Tests inject a failing one (ENOSPC). */
export type BackupFs = AtomicWriteFs & Pick<typeof fsPromises, 'readdir' | 'lstat' | 'readFile'>;

/** `node:fs/promises`, as backups use it. */
export const realBackupFs = fsPromises as unknown as BackupFs;

/** Directories already made and cleaned in this process. */
const prepared = new Map<string, Promise<void>>();

/** Names of files a run writes before it is done with them, with the id of its process. */
const UNFINISHED = [/^\.staging-(\d+)-[0-9a-f]+\.xml$/, /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/];

/**
 * Makes the backup directory (0700) and removes what killed runs left in it: staged definitions and
 * temp files of processes that no longer run. Once per directory and process.
 *
 * @example
 * await prepareBackupDir('/var/lib/virt-nested/backups', realBackupFs);
 */
export function prepareBackupDir(dir: string, fs: BackupFs): Promise<void> {
  let done = fs === realBackupFs ? prepared.get(dir) : undefined;
  if (done) return done;
  done = (async () => {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(dir)) {
      const pid = Number(UNFINISHED.map((pattern) => pattern.exec(name)?.[1]).find(Boolean));
      if (pid > 0 && pid !== process.pid && !processIsAlive(pid)) await fs.unlink(join(dir, name)).catch(() => undefined);
    }
  })();
  if (fs === realBackupFs) {
    prepared.set(dir, done);
    done.catch(() => prepared.delete(dir));
  }
  return done;
}
