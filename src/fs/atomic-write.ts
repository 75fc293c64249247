/**
 * Atomic, idempotent file writes: a temp file in the same directory, fsync, rename. Readers see the old
 * bytes or the new ones, never a half-written file, and a failure leaves the old file as it was.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VirtNestedError } from '../errors.js';

/** The file-system calls an atomic write makes; tests inject failures through this. */
export interface AtomicWriteFs {
  readFile(path: string): Promise<Buffer>;
  stat(path: string): Promise<{ mode: number }>;
  open(path: string, flags: string, mode: number): Promise<nodeFs.FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** The mode for a new file (an existing file keeps its own). Default 0o644. */
  readonly mode?: number;
  /** Write even when the bytes are unchanged. Default false. */
  readonly force?: boolean;
  readonly fs?: AtomicWriteFs;
}

/**
 * Writes `content` to `path` atomically, keeping an existing file's mode, and only when the bytes
 * change. Returns whether it wrote.
 *
 * @example
 * await writeFileAtomic('/etc/modprobe.d/kvm.conf', 'options kvm_intel nested=1\n') // true, then false
 */
export async function writeFileAtomic(path: string, content: string | Buffer, options: AtomicWriteOptions = {}): Promise<boolean> {
  const fs = options.fs ?? (nodeFs as unknown as AtomicWriteFs);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let mode = options.mode ?? 0o644;
  try {
    const current = await fs.readFile(path);
    if (!options.force && current.equals(bytes)) return false;
    mode = (await fs.stat(path)).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(path, error);
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: nodeFs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx', mode);
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.chmod(temp, mode);
    await fs.rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw unwritable(path, error);
  }
  return true;
}

function unwritable(path: string, error: unknown): VirtNestedError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  return new VirtNestedError('FILE_UNWRITABLE', `cannot write ${path} (${reason}); it was left as it was`, { cause: error });
}
