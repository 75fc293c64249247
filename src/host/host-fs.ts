/**
 * The machine's files as the host code sees them: one object for reads and writes, under a root
 * directory that stands for `/` (a fixture tree, a mounted image, a chroot). Symlinks are followed
 * the way they would be on that machine: an absolute target is taken under the root, never on the
 * machine that runs the code. Writes are atomic and go through a symlink to its target.
 */
import * as fsPromises from 'node:fs/promises';
import { join, posix } from 'node:path';
import { writeFileAtomic, type AtomicWriteFs } from '../fs/atomic-write.js';

/**
 * What a path is, after `lstat` (a symlink is not followed).
 *
 * @example
 * const kind: HostPathKind = 'symlink';
 */
export type HostPathKind = 'file' | 'directory' | 'symlink' | 'other';

/**
 * Where a chain of symlinks ends, as a path on the host.
 *
 * @example
 * const end: ResolvedPath = { path: '/etc/kvm/kvm.conf', kind: 'file', linked: true };
 */
export interface ResolvedPath {
  readonly path: string;
  /** What the last path is; `undefined` when it does not exist (a dangling link, or nothing). */
  readonly kind: Exclude<HostPathKind, 'symlink'> | undefined;
  /** The given path was a symlink. */
  readonly linked: boolean;
}

/**
 * The file system of the machine under a root. Paths are host paths (`/etc/modprobe.d/kvm.conf`).
 *
 * @example
 * const fs = createHostFs('fixtures/hosts/intel-nested-on');
 * await fs.readText('/sys/module/kvm_intel/parameters/nested'); // 'Y\n'
 */
export interface HostFs {
  /** The directory standing for `/`. */
  readonly root: string;
  /** Whether the path exists (a dangling symlink exists too: it is what `ls` shows). */
  exists(path: string): Promise<boolean>;
  /** Follows symlinks (at most 40, as the kernel does) to the path they end at. */
  resolve(path: string): Promise<ResolvedPath>;
  /** The text of the file the path leads to, or `undefined` when there is none. */
  readText(path: string): Promise<string | undefined>;
  /** The names in a directory, or `undefined` when it cannot be listed. */
  list(path: string): Promise<string[] | undefined>;
  /** The permission bits of what the path leads to, or `undefined`. */
  mode(path: string): Promise<number | undefined>;
  /** Replaces the file at `path` (not following a symlink: pass a resolved path) atomically. */
  write(path: string, text: string, mode: number): Promise<void>;
  /** Removes the file; one that is already gone is fine. */
  remove(path: string): Promise<void>;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const MAX_LINKS = 40;

/**
 * The {@link HostFs} of the machine under `root`; writes go through `fs` (tests inject a failing one).
 *
 * @example
 * const hostFs = createHostFs('/');
 * const kvmConf = await hostFs.resolve('/etc/modprobe.d/kvm.conf');
 */
export function createHostFs(root: string, fs: AtomicWriteFs = fsPromises as unknown as AtomicWriteFs): HostFs {
  const real = (path: string) => join(root, path);
  const kindOf = async (path: string): Promise<HostPathKind | undefined> => {
    try {
      const stats = await fsPromises.lstat(real(path));
      if (stats.isSymbolicLink()) return 'symlink';
      if (stats.isFile()) return 'file';
      return stats.isDirectory() ? 'directory' : 'other';
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };
  const resolve = async (path: string): Promise<ResolvedPath> => {
    let current = posix.normalize(path);
    for (let hops = 0; hops <= MAX_LINKS; hops += 1) {
      const kind = await kindOf(current);
      if (kind !== 'symlink') return { path: current, kind, linked: hops > 0 };
      const target = await fsPromises.readlink(real(current));
      current = posix.normalize(target.startsWith('/') ? target : posix.join(posix.dirname(current), target));
    }
    return { path: current, kind: undefined, linked: true };
  };
  return {
    root,
    exists: async (path) => (await kindOf(path)) !== undefined,
    resolve,
    async readText(path) {
      const end = await resolve(path);
      if (end.kind === undefined || end.kind === 'directory') return undefined;
      try {
        return await fsPromises.readFile(real(end.path), 'utf8');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async list(path) {
      try {
        return await fsPromises.readdir(real((await resolve(path)).path));
      } catch {
        return undefined;
      }
    },
    async mode(path) {
      const end = await resolve(path);
      if (end.kind === undefined) return undefined;
      return (await fsPromises.stat(real(end.path))).mode & 0o7777;
    },
    write: (path, text, mode) => writeFileAtomic(real(path), text, { mode, createDirectory: true, fs }),
    async remove(path) {
      try {
        await fs.unlink(real(path));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    },
  };
}
