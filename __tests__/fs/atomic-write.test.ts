import * as fsPromises from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, type AtomicWriteFs, type AtomicWriteHandle } from '../../src/fs/atomic-write.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vn-atomic-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const realFs = fsPromises as unknown as AtomicWriteFs;
const failure = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

test('writes the bytes with the mode asked, whatever the umask, and leaves no temp file', async () => {
  const path = join(directory, 'kvm.conf');
  const umask = process.umask(0o077);
  try {
    await writeFileAtomic(path, 'options kvm_intel nested=1\n', { mode: 0o644 });
  } finally {
    process.umask(umask);
  }
  expect(await readFile(path, 'utf8')).toBe('options kvm_intel nested=1\n');
  expect((await stat(path)).mode & 0o7777).toBe(0o644);
  expect(await readdir(directory)).toEqual(['kvm.conf']);
});

test('creates the directory when asked', async () => {
  const path = join(directory, 'etc/modprobe.d/kvm.conf');
  await writeFileAtomic(path, 'x\n', { mode: 0o600, createDirectory: true });
  expect((await stat(path)).mode & 0o7777).toBe(0o600);
  expect((await stat(join(directory, 'etc/modprobe.d'))).mode & 0o777).toBe(0o755);
});

describe('a failure leaves the old file and no temp file', () => {
  const old = '# the old file\noptions kvm_intel nested=0\n';
  const path = () => join(directory, 'kvm.conf');
  beforeEach(async () => {
    await writeFile(path(), old, { mode: 0o640 });
  });
  const expectUntouched = async () => {
    expect(await readFile(path(), 'utf8')).toBe(old);
    expect((await stat(path())).mode & 0o7777).toBe(0o640);
    expect(await readdir(directory)).toEqual(['kvm.conf']);
  };

  test('read-only file system: open fails', async () => {
    const fs: AtomicWriteFs = { ...realFs, open: async () => Promise.reject(failure('EROFS')) };
    await expect(writeFileAtomic(path(), 'new\n', { mode: 0o644, fs })).rejects.toMatchObject({ code: 'EROFS' });
    await expectUntouched();
  });

  test('disk full half way through the write', async () => {
    const fs: AtomicWriteFs = {
      ...realFs,
      open: async (p, flags, mode) => {
        const handle = await realFs.open(p, flags, mode);
        const halfThenFail: AtomicWriteHandle = {
          writeFile: async (data) => {
            await handle.writeFile(data.slice(0, data.length / 2));
            throw failure('ENOSPC');
          },
          sync: () => handle.sync(),
          chmod: (m) => handle.chmod(m),
          close: () => handle.close(),
        };
        return halfThenFail;
      },
    };
    await expect(writeFileAtomic(path(), 'options kvm_intel nested=1\n', { mode: 0o644, fs })).rejects.toMatchObject({ code: 'ENOSPC' });
    await expectUntouched();
  });

  test('rename fails', async () => {
    const fs: AtomicWriteFs = { ...realFs, rename: async () => Promise.reject(failure('EXDEV')) };
    await expect(writeFileAtomic(path(), 'new\n', { mode: 0o644, fs })).rejects.toMatchObject({ code: 'EXDEV' });
    await expectUntouched();
  });

  test('fsync fails', async () => {
    const fs: AtomicWriteFs = {
      ...realFs,
      open: async (p, flags, mode) => {
        const handle = await realFs.open(p, flags, mode);
        return { writeFile: (d) => handle.writeFile(d), chmod: (m) => handle.chmod(m), close: () => handle.close(), sync: async () => Promise.reject(failure('EIO')) };
      },
    };
    await expect(writeFileAtomic(path(), 'new\n', { mode: 0o644, fs })).rejects.toMatchObject({ code: 'EIO' });
    await expectUntouched();
  });
});
