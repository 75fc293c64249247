/**
 * Backups of guest definitions, written before every define: mode 0600 (a definition read with
 * --security-info holds passwords), in a 0700 directory (`backup-dir.ts`), each written atomically (temp
 * file, fsync, rename) so that a full disk or a kill never leaves a partial or empty backup, with its
 * metadata beside it (`backup-metadata.ts`). Named after the guest and its host, so that the same guest
 * name on two hosts of a fleet gives two telling names.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { VirtNestedError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { prepareBackupDir, realBackupFs, type BackupFs } from './backup-dir.js';
import { metadataPath, sha256Hex, writeMetadata, type BackupMetadata } from './backup-metadata.js';

/** Longest percent-encoded name part kept readable; longer ones are cut and completed by a hash. */
const READABLE_PART = 64;

/**
 * A file name part for any name: spaces, quotes, slashes and non-ASCII are percent-encoded; a name whose
 * encoding is long (244 ASCII characters, 30 CJK ones: 270 bytes) keeps its first characters and a hash
 * of the whole, so that the file name stays far below the 255-byte limit. The full name is in the metadata.
 */
function fileNamePart(name: string): string {
  const encoded = encodeURIComponent(name).replace(/^\./, '%2E').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (encoded.length <= READABLE_PART) return encoded;
  // cut before a `%XX` that would be split
  const cut = encoded.slice(0, 40).replace(/%[0-9A-F]?$/, '');
  return `${cut}~${sha256Hex(name).slice(0, 16)}`;
}

/**
 * The host a libvirt URI names (`hv1` in `qemu+ssh://root@hv1/system`), or `local`.
 *
 * @example
 * hostOf('qemu:///system') // 'local'
 */
export function hostOf(uri: string): string {
  try {
    return new URL(uri).hostname || 'local';
  } catch {
    return 'local';
  }
}

/** Options of {@link writeBackup}. */
export interface WriteBackupOptions {
  readonly reason?: BackupMetadata['reason'];
  readonly uuid?: string | null;
  readonly fs?: BackupFs;
}

/**
 * Writes `xml` as the backup of `guest`'s definition at `uri`, with its metadata, and returns its path
 * (`DIR/GUEST@HOST-YYYYMMDDTHHMMSSZ.xml`, mode 0600; HOST is the URI's host, `local` for a local URI,
 * so that the same guest name on two hosts of a fleet gives two telling names). Each file is written
 * atomically; on failure nothing of it is left.
 *
 * @example
 * await writeBackup('/var/lib/virt-nested/backups', 'web-1', 'qemu+ssh://root@hv1/system', xml, new Date())
 * // '/var/lib/virt-nested/backups/web-1@hv1-20261125T061500Z.xml'
 */
export async function writeBackup(dir: string, guest: string, uri: string, xml: string, now: Date, options: WriteBackupOptions = {}): Promise<string> {
  if (xml === '') throw new VirtNestedError('INTERNAL', `refusing to write an empty backup of guest "${guest}"`);
  const fs = options.fs ?? realBackupFs;
  await prepareBackupDir(dir, fs);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${fileNamePart(guest)}@${fileNamePart(hostOf(uri))}-${stamp}`;
  let path = join(dir, `${base}.xml`);
  for (let i = 1; (await Promise.all([exists(fs, path), exists(fs, metadataPath(path))])).some(Boolean); i++) path = join(dir, `${base}-${i}.xml`);
  const metadata: BackupMetadata = {
    schemaVersion: 1, guest, uri, host: hostOf(uri), uuid: options.uuid ?? null, createdAt: now.toISOString(),
    sha256: sha256Hex(xml), reason: options.reason ?? 'set-cpu', defined: null,
  };
  // both files are written at once, but the metadata takes its place only after its backup has: it
  // never names a file that does not exist
  const backupWritten = writeFileAtomic(path, xml, { mode: 0o600, fs });
  const [backup, meta] = await Promise.allSettled([backupWritten, writeMetadata(path, metadata, fs, () => backupWritten)]);
  if (backup.status === 'rejected') throw backup.reason;
  if (meta.status === 'rejected') {
    await fs.unlink(path).catch(() => undefined);
    throw meta.reason;
  }
  return path;
}

async function exists(fs: BackupFs, path: string): Promise<boolean> {
  return fs.lstat(path).then(() => true, () => false);
}
