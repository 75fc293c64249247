/**
 * The file virsh defines from (`virsh define --file`), staged in the backup directory, never in TMPDIR:
 * it holds the same secrets as the backup. A run killed before it could remove its staged file leaves it
 * behind; the next run removes those of processes that no longer run (`backup-dir.ts`).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { prepareBackupDir, realBackupFs, type BackupFs } from './backup-dir.js';

/** A definition written for `virsh define --file`. */
export interface StagedDefinition {
  readonly file: string;
  /** Removes the file; never rejects. */
  remove(): Promise<void>;
}

/**
 * Writes `xml` for `virsh define --file` as a 0600 file in the backup directory (`.staging-PID-HEX.xml`),
 * complete (closed) before it is returned. It is not fsynced: virsh reads it through the page cache at
 * once, and a file that lives for one define needs no durability (a crash leaves the backup, which is).
 *
 * @example
 * const staged = await stageDefinition(backupDir, xml);
 * try { await session.define(staged.file); } finally { await staged.remove(); }
 */
export async function stageDefinition(dir: string, xml: string, fs: BackupFs = realBackupFs): Promise<StagedDefinition> {
  await prepareBackupDir(dir, fs);
  const file = join(dir, `.staging-${process.pid}-${randomBytes(8).toString('hex')}.xml`);
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(xml);
    } finally {
      await handle.close();
    }
  } catch (error) {
    await fs.unlink(file).catch(() => undefined);
    throw error;
  }
  return { file, remove: () => fs.unlink(file).catch(() => undefined) };
}
