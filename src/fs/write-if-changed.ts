import { lstat, realpath, stat } from 'node:fs/promises';
import { VirtNestedError } from '../errors.js';
import { writeFileAtomic, type AtomicWriteFs } from './atomic-write.js';
import { readRegularFile } from './read-domain-file.js';

/**
 * Options of {@link writeIfChanged}.
 *
 * @example
 * const options: WriteIfChangedOptions = { expected: bytesAsRead };
 */
export interface WriteIfChangedOptions {
  /**
   * The bytes the file held when the caller read it: the file is written only while it still holds
   * them (checked first, and again right before the rename), else `FILE_CHANGED` is thrown and the
   * other writer's bytes stay.
   */
  readonly expected?: Uint8Array;
  /** Where the writes go; tests inject a failing one. */
  readonly fs?: AtomicWriteFs;
}

/** Larger than any file the caller could have read (the scanner refuses more than 10 MiB). */
const RECHECK_LIMIT = 64 * 1024 * 1024;

/**
 * Writes `content` to `given` atomically, only when its bytes change, keeping an existing file's
 * permission bits, owner and group (0644 and the caller's for a new file); a symlink is followed and
 * stays a symlink. Returns whether it wrote. A failure is a `FILE_UNWRITABLE` error naming the file, a
 * file that changed since it was read (`expected`) a `FILE_CHANGED` one; either way the file is left
 * as it was.
 *
 * @example
 * await writeIfChanged('templates/web.xml', edited) // true, then false on a second run
 */
export async function writeIfChanged(given: string, content: string | Uint8Array, options: WriteIfChangedOptions = {}): Promise<boolean> {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const path = await targetOf(given);
  let mode = 0o644;
  let owner: { uid: number; gid: number } | undefined;
  let current: Buffer | undefined;
  try {
    const info = await stat(path);
    mode = info.mode & 0o7777;
    owner = { uid: info.uid, gid: info.gid };
    current = await readRegularFile(path, RECHECK_LIMIT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error instanceof VirtNestedError ? error : unwritable(path, error);
  }
  if (options.expected !== undefined) assertUnchanged(given, current, options.expected);
  if (current !== undefined && Buffer.compare(current, data) === 0) return false;
  const { expected } = options;
  const beforeRename = expected === undefined
    ? undefined
    : async () => assertUnchanged(given, await readRegularFile(path, RECHECK_LIMIT).catch(() => undefined), expected);
  try {
    await writeFileAtomic(path, data, { mode, ...(owner ? { owner } : {}), ...(beforeRename ? { beforeRename } : {}), ...(options.fs ? { fs: options.fs } : {}) });
  } catch (error) {
    if (error instanceof VirtNestedError) throw error;
    throw unwritable(path, error);
  }
  return true;
}

/** The file a write to `given` must replace: a symlink's target (a dangling symlink is refused). */
async function targetOf(given: string): Promise<string> {
  try {
    return await realpath(given);
  } catch (error) {
    const link = await lstat(given).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      throw new VirtNestedError('FILE_UNWRITABLE', `cannot write ${given}: it is a symbolic link to a file that does not exist; it was left as it was`, { cause: error });
    }
    return given;
  }
}

function assertUnchanged(given: string, current: Uint8Array | undefined, expected: Uint8Array): void {
  if (current !== undefined && Buffer.compare(current, expected) === 0) return;
  throw new VirtNestedError('FILE_CHANGED', `${given} changed after it was read (another program wrote it), so it was not written; run again to edit the new content`);
}

function unwritable(path: string, error: unknown): VirtNestedError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  return new VirtNestedError('FILE_UNWRITABLE', `cannot write ${path} (${reason}); it was left as it was`, { cause: error });
}
