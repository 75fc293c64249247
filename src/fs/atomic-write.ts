/**
 * Writing a file so that readers see the old bytes or the new ones, never a part: a temp file in
 * the same directory, fsync, rename over the target, fsync of the directory. A failure removes the
 * temp file and leaves the target as it was.
 */
import { randomBytes } from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The open file {@link writeFileAtomic} writes through; `node:fs/promises`' `FileHandle` is one.
 *
 * @example
 * const handle: AtomicWriteHandle = await fsPromises.open('/tmp/x', 'wx', 0o644);
 */
export interface AtomicWriteHandle {
  writeFile(data: string | Uint8Array): Promise<void>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  /** Needed only when the write keeps an owner (`AtomicWriteOptions.owner`). */
  chown?(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system calls {@link writeFileAtomic} makes; `node:fs/promises` is one. Tests inject a
 * failing one to stand for a read-only `/etc` or a full disk.
 *
 * @example
 * const readOnly: AtomicWriteFs = { ...fsPromises, open: async () => { throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }); } };
 */
export interface AtomicWriteFs {
  open(path: string, flags: string, mode?: number): Promise<AtomicWriteHandle>;
  rename(oldPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true; mode?: number }): Promise<string | undefined>;
}

/**
 * Options of {@link writeFileAtomic}.
 *
 * @example
 * const options: AtomicWriteOptions = { mode: 0o644 };
 */
export interface AtomicWriteOptions {
  /** Permission bits of the written file (kept exactly: the umask does not apply). */
  readonly mode: number;
  /** Create the parent directory (mode 0755) when it is missing. */
  readonly createDirectory?: boolean;
  /**
   * Owner and group of the written file, set on the temp file before the rename (as root, a new file
   * would otherwise be root's).
   */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /**
   * Runs right before the rename, after the temp file is complete; throwing stops the write (the temp
   * file is removed, the target untouched). A caller checks here that the target is still what it read.
   */
  readonly beforeRename?: () => Promise<void>;
  readonly fs?: AtomicWriteFs;
}

/**
 * Replaces `path` with `data` atomically. On failure the target is untouched, no temp file is
 * left, and the file system's own error is thrown.
 *
 * @example
 * await writeFileAtomic('/etc/modprobe.d/kvm.conf', 'options kvm_intel nested=1\n', { mode: 0o644 });
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const fs = options.fs ?? (fsPromises as unknown as AtomicWriteFs);
  const directory = dirname(path);
  if (options.createDirectory) await fs.mkdir(directory, { recursive: true, mode: 0o755 });
  // A leading dot and no `.conf` suffix: modprobe ignores the temp file even if a crash leaves it.
  const temp = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', options.mode);
  try {
    try {
      await handle.writeFile(data);
      if (options.owner) {
        if (!handle.chown) throw new TypeError('the injected file system cannot chown, so the owner cannot be kept');
        // before chmod: chown clears the set-user-ID and set-group-ID bits
        await handle.chown(options.owner.uid, options.owner.gid);
      }
      await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.();
    await fs.rename(temp, path);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(fs, directory);
}

async function syncDirectory(fs: AtomicWriteFs, directory: string): Promise<void> {
  // The rename is durable only once the directory is; some file systems refuse fsync on a
  // directory, and the write itself has already succeeded, so a refusal here is not an error.
  try {
    const handle = await fs.open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // see above
  }
}
