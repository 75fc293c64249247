import { readFile, realpath, stat } from 'node:fs/promises';
import { VirtNestedError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Writes `content` to `given` atomically, only when its bytes change, keeping an existing file's
 * permission bits (0644 for a new file); a symlink is followed and stays a symlink. Returns whether it wrote. A failure is a
 * `FILE_UNWRITABLE` error naming the file, which is left as it was.
 *
 * @example
 * await writeIfChanged('templates/web.xml', edited) // true, then false on a second run
 */
export async function writeIfChanged(given: string, content: string): Promise<boolean> {
  // a symlinked template stays a symlink: the file it points to is what gets rewritten
  const path = await realpath(given).catch(() => given);
  let mode = 0o644;
  try {
    if ((await readFile(path, 'utf8')) === content) return false;
    mode = (await stat(path)).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(path, error);
  }
  try {
    await writeFileAtomic(path, content, { mode });
  } catch (error) {
    throw unwritable(path, error);
  }
  return true;
}

function unwritable(path: string, error: unknown): VirtNestedError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  return new VirtNestedError('FILE_UNWRITABLE', `cannot write ${path} (${reason}); it was left as it was`, { cause: error });
}
