/**
 * Backups of guest definitions, written before every define: mode 0600 (a definition read with
 * --security-info holds passwords), in a 0700 directory, each written atomically (temp file, fsync,
 * rename) so that a full disk or a kill never leaves a partial or empty backup. Beside each backup, a
 * small JSON file (its metadata) keeps the full guest name and URI, and, once the define has been
 * verified, the SHA-256 of the definition virt-nested wrote: `restore` changes a guest only while its
 * definition is still that one.
 *
 * The file virsh defines from (`virsh define --file`) is staged in the same directory, never in TMPDIR:
 * it holds the same secrets. A run killed before it could remove its staged file leaves it behind; the
 * next run removes those of processes that no longer run.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VirtNestedError } from '../errors.js';
import { writeFileAtomic, type AtomicWriteFs } from '../fs/atomic-write.js';
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

/** The file-system calls backups make; `node:fs/promises` is one. Tests inject a failing one (ENOSPC). */
export type BackupFs = AtomicWriteFs & Pick<typeof fsPromises, 'readdir' | 'lstat' | 'readFile'>;

const realFs = fsPromises as unknown as BackupFs;

/**
 * SHA-256 (hex) of a text's UTF-8 bytes.
 *
 * @example
 * sha256Hex('') // 'e3b0c442…b855'
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

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

/** Directories already made and cleaned in this process. */
const prepared = new Map<string, Promise<void>>();

/** Names of files a run writes before it is done with them, with the id of its process. */
const UNFINISHED = [/^\.staging-(\d+)-[0-9a-f]+\.xml$/, /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/];

/**
 * Makes the backup directory (0700) and removes what killed runs left in it: staged definitions and
 * temp files of processes that no longer run. Once per directory and process.
 */
function prepareDir(dir: string, fs: BackupFs): Promise<void> {
  let done = fs === realFs ? prepared.get(dir) : undefined;
  if (done) return done;
  done = (async () => {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(dir)) {
      const pid = Number(UNFINISHED.map((pattern) => pattern.exec(name)?.[1]).find(Boolean));
      if (pid > 0 && pid !== process.pid && !processIsAlive(pid)) await fs.unlink(join(dir, name)).catch(() => undefined);
    }
  })();
  if (fs === realFs) {
    prepared.set(dir, done);
    done.catch(() => prepared.delete(dir));
  }
  return done;
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
  const fs = options.fs ?? realFs;
  await prepareDir(dir, fs);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${fileNamePart(guest)}@${fileNamePart(hostOf(uri))}-${stamp}`;
  let path = join(dir, `${base}.xml`);
  for (let i = 1; (await Promise.all([exists(fs, path), exists(fs, metadataPath(path))])).some(Boolean); i++) path = join(dir, `${base}-${i}.xml`);
  const metadata: BackupMetadata = {
    schemaVersion: 1, guest, uri, host: hostOf(uri), uuid: options.uuid ?? null, createdAt: now.toISOString(),
    sha256: sha256Hex(xml), reason: options.reason ?? 'set-cpu', defined: null,
  };
  // the definition first: metadata without its backup would name a file that does not exist
  await writeFileAtomic(path, xml, { mode: 0o600, fs });
  try {
    await writeMetadata(path, metadata, fs);
  } catch (error) {
    await fs.unlink(path).catch(() => undefined);
    throw error;
  }
  return path;
}

async function exists(fs: BackupFs, path: string): Promise<boolean> {
  return fs.lstat(path).then(() => true, () => false);
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

async function writeMetadata(backup: string, metadata: BackupMetadata, fs: BackupFs): Promise<void> {
  await writeFileAtomic(metadataPath(backup), `${JSON.stringify(metadata, null, 2)}\n`, { mode: 0o600, fs });
}

/**
 * Reads a backup's metadata; undefined when it has none (written by an older virt-nested) or it is not
 * readable as such.
 *
 * @example
 * (await readBackupMetadata('/b/web-1@local-20261125T061500Z.xml'))?.guest // 'web-1'
 */
export async function readBackupMetadata(backup: string, fs: BackupFs = realFs): Promise<BackupMetadata | undefined> {
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
export async function recordDefined(backup: string, definedSha256: string, now: Date, fs: BackupFs = realFs): Promise<void> {
  const metadata = await readBackupMetadata(backup, fs);
  if (metadata === undefined) throw new VirtNestedError('FILE_UNREADABLE', `the metadata of backup ${backup} cannot be read`);
  await writeMetadata(backup, { ...metadata, defined: { sha256: definedSha256, at: now.toISOString() } }, fs);
}

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
export async function stageDefinition(dir: string, xml: string, fs: BackupFs = realFs): Promise<StagedDefinition> {
  await prepareDir(dir, fs);
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
