/**
 * The backups virt-nested wrote, per guest and host, read from their metadata files.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtNestedError } from '../errors.js';
import { defaultBackupDir } from './backup-dir.js';
import { readBackupMetadata, type BackupMetadata } from './backup-metadata.js';

/** Options of {@link listBackups}. */
export interface ListBackupsOptions {
  /** Where backups are (default: see `defaultBackupDir`). */
  readonly backupDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Only this guest's backups (the name exactly as libvirt has it). */
  readonly guest?: string;
  /** Only backups read from this URI. */
  readonly uri?: string;
}

/**
 * One backup: where it is, its size, and its metadata.
 *
 * @example
 * const entry: BackupEntry = { file: '/var/lib/virt-nested/backups/web-1@local-20261125T061500Z.xml', size: 1432, ...metadata };
 */
export interface BackupEntry extends BackupMetadata {
  /** The backup's path. */
  readonly file: string;
  readonly size: number;
}

/**
 * Lists backups, oldest first within each guest and URI (the last one of a guest is the one `restore`
 * uses by default). A backup without readable metadata (written by an older virt-nested) is left out.
 * A missing backup directory is no backups.
 *
 * @example
 * const backups = await listBackups({ guest: 'web-1', uri: 'qemu:///system' });
 * backups.at(-1)?.file // '/var/lib/virt-nested/backups/web-1@local-20261125T061500Z.xml'
 */
export async function listBackups(options: ListBackupsOptions = {}): Promise<BackupEntry[]> {
  const dir = options.backupDir ?? defaultBackupDir(options.env ?? process.env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new VirtNestedError('FILE_UNREADABLE', `cannot read the backup directory ${dir} (${code ?? String(error)})`, { cause: error });
  }
  const entries: BackupEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.') || !name.endsWith('.xml')) continue;
    const file = join(dir, name);
    const metadata = await readBackupMetadata(file);
    if (metadata === undefined) continue;
    if (options.guest !== undefined && metadata.guest !== options.guest) continue;
    if (options.uri !== undefined && metadata.uri !== options.uri) continue;
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) continue;
    entries.push({ ...metadata, file, size });
  }
  return entries.sort((a, b) =>
    a.guest.localeCompare(b.guest) || a.uri.localeCompare(b.uri) || a.createdAt.localeCompare(b.createdAt) || a.file.localeCompare(b.file));
}

/**
 * The latest backup of a guest at a URI, or undefined.
 *
 * @example
 * await latestBackup('web-1', 'qemu:///system', { backupDir })
 */
export async function latestBackup(guest: string, uri: string, options: Omit<ListBackupsOptions, 'guest' | 'uri'> = {}): Promise<BackupEntry | undefined> {
  return (await listBackups({ ...options, guest, uri })).at(-1);
}
