/**
 * Reading the machine through a root directory that stands for `/`, so tests can point it at a
 * fixture tree. "Present" means the path exists; nothing here follows what a file means.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The path under `root` of a path as seen on the host (`/etc/modprobe.d/kvm.conf`).
 *
 * @example
 * pathInRoot('/tmp/fixture', '/proc/cpuinfo'); // '/tmp/fixture/proc/cpuinfo'
 */
export function pathInRoot(root: string, hostPath: string): string {
  return join(root, hostPath);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Whether a path exists under `root` (a dangling symlink exists too: it is what `ls` shows).
 *
 * @example
 * await pathExists('/', '/dev/kvm'); // true on a KVM host
 */
export async function pathExists(root: string, hostPath: string): Promise<boolean> {
  try {
    await lstat(pathInRoot(root, hostPath));
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/**
 * The text of a file under `root`, or `undefined` when it does not exist; other errors are thrown.
 *
 * @example
 * const nested = await readTextIfExists('/', '/sys/module/kvm_intel/parameters/nested'); // 'Y\n'
 */
export async function readTextIfExists(root: string, hostPath: string): Promise<string | undefined> {
  try {
    return await readFile(pathInRoot(root, hostPath), 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}
