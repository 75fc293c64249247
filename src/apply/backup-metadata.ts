/**
 * A backup's metadata: the JSON file beside it (`NAME.json` beside `NAME.xml`) with the full guest name,
 * the URI and, once the define has been verified, the SHA-256 of what virt-nested defined; `restore`
 * changes a guest only while its definition is still that one.
 */
import { createHash } from 'node:crypto';
import { VirtNestedError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { realBackupFs, type BackupFs } from './backup-dir.js';

/**
 * What a backup's metadata file (`NAME.json` beside `NAME.xml`) records.
 *
 * @example
 * const meta: BackupMetadata = { schemaVersion: 1, guest: 'web-1', uri: 'qemu:///system', host: 'local', uuid: '…', createdAt: '2026-11-25T06:15:00.000Z', sha256: '…', reason: 'set-cpu', defined: null };
 */
export interface BackupMetadata {
  readonly schemaVersion: 1;
  /** The guest name exactly as libvirt has it (the file name may hold only a hash of it). */
  readonly guest: string;
  /** The libvirt URI the definition was read from. */
  readonly uri: string;
  /** The URI's host, `local` for a local URI. */
  readonly host: string;
  readonly uuid: string | null;
  /** When the backup was written (ISO 8601). */
  readonly createdAt: string;
  /** SHA-256 (hex) of the backup's bytes. */
  readonly sha256: string;
  /** The command that replaced the definition this backup holds. */
  readonly reason: 'set-cpu' | 'restore';
  /** What virt-nested defined after writing this backup, once verified; null before (or if it never was). */
  readonly defined: { readonly sha256: string; readonly at: string } | null;
}

/**
 * SHA-256 (hex) of a text's UTF-8 bytes.
 *
 * @example
 * sha256Hex('') // 'e3b0c442…b855'
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The metadata file of a backup: `NAME.json` beside `NAME.xml`.
 *
 * @example
 * metadataPath('/b/web-1@local-20261125T061500Z.xml') // '/b/web-1@local-20261125T061500Z.json'
 */
export function metadataPath(backup: string): string {
  return backup.replace(/\.xml$/, '') + '.json';
}

/**
 * Writes a backup's metadata file, atomically (0600); `beforeRename` runs when the file is complete,
 * right before it takes its place (throwing there leaves nothing).
 *
 * @example
 * await writeMetadata(backup, metadata, realBackupFs);
 */
export async function writeMetadata(backup: string, metadata: BackupMetadata, fs: BackupFs, beforeRename?: () => Promise<unknown>): Promise<void> {
  await writeFileAtomic(metadataPath(backup), `${JSON.stringify(metadata, null, 2)}\n`, {
    mode: 0o600, fs, ...(beforeRename ? { beforeRename: async () => { await beforeRename(); } } : {}),
  });
}

/**
 * Reads a backup's metadata; undefined when it has none (written by an older virt-nested) or it is not
 * readable as such.
 *
 * @example
 * (await readBackupMetadata('/b/web-1@local-20261125T061500Z.xml'))?.guest // 'web-1'
 */
export async function readBackupMetadata(backup: string, fs: BackupFs = realBackupFs): Promise<BackupMetadata | undefined> {
  try {
    const value = JSON.parse(await fs.readFile(metadataPath(backup), 'utf8')) as BackupMetadata;
    return value?.schemaVersion === 1 && typeof value.guest === 'string' && typeof value.uri === 'string' && typeof value.sha256 === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records in a backup's metadata what virt-nested defined after writing it (the SHA-256 of the
 * definition as read back). A failure is reported to the caller, who tells the user: `restore` will
 * then ask for `--force`.
 *
 * @example
 * await recordDefined(backup, sha256Hex(readBack), new Date());
 */
export async function recordDefined(backup: string, definedSha256: string, now: Date, fs: BackupFs = realBackupFs): Promise<void> {
  const metadata = await readBackupMetadata(backup, fs);
  if (metadata === undefined) throw new VirtNestedError('FILE_UNREADABLE', `the metadata of backup ${backup} cannot be read`);
  await writeMetadata(backup, { ...metadata, defined: { sha256: definedSha256, at: now.toISOString() } }, fs);
}
