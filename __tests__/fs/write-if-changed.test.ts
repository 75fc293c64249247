import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AtomicWriteFs, AtomicWriteHandle } from '../../src/fs/atomic-write.js';
import { writeIfChanged } from '../../src/fs/write-if-changed.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vn-write-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('writes only when the bytes change, keeping the mode', async () => {
  const file = join(dir, 'a.xml');
  writeFileSync(file, 'old');
  chmodSync(file, 0o640);
  expect(await writeIfChanged(file, 'new')).toBe(true);
  expect([readFileSync(file, 'utf8'), statSync(file).mode & 0o777]).toEqual(['new', 0o640]);
  expect(await writeIfChanged(file, 'new')).toBe(false);
  expect(readdirSync(dir)).toEqual(['a.xml']);
});

test('a symlink stays a symlink and the file it points to is rewritten', async () => {
  const real = join(dir, 'real.xml');
  const link = join(dir, 'link.xml');
  writeFileSync(real, 'old');
  symlinkSync('real.xml', link);
  expect(await writeIfChanged(link, 'new')).toBe(true);
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readFileSync(real, 'utf8')).toBe('new');
  expect(readdirSync(dir).sort()).toEqual(['link.xml', 'real.xml']);
});

test('a new file is created with mode 0644', async () => {
  const file = join(dir, 'new.xml');
  expect(await writeIfChanged(file, 'x')).toBe(true);
  expect(statSync(file).mode & 0o777).toBe(0o644);
});

const realFs = fsPromises as unknown as AtomicWriteFs;
const NOBODY = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
const NOGROUP = Number(execFileSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).split(':')[2]);

test('owner, group and mode stay (as root, a rewritten file of nobody:nogroup 0640 is not made root-owned)', async () => {
  const file = join(dir, 'a.xml');
  writeFileSync(file, 'old');
  chownSync(file, NOBODY, NOGROUP);
  chmodSync(file, 0o640);
  expect(await writeIfChanged(file, 'new')).toBe(true);
  const info = statSync(file);
  expect([readFileSync(file, 'utf8'), info.uid, info.gid, info.mode & 0o7777]).toEqual(['new', NOBODY, NOGROUP, 0o640]);
});

test('a symlink to a file that does not exist is refused, and stays a symlink', async () => {
  const link = join(dir, 'link.xml');
  symlinkSync('gone.xml', link);
  await expect(writeIfChanged(link, 'new')).rejects.toMatchObject({
    code: 'FILE_UNWRITABLE',
    message: `cannot write ${link}: it is a symbolic link to a file that does not exist; it was left as it was`,
  });
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readdirSync(dir)).toEqual(['link.xml']);
});

test('a file that no longer holds the bytes read is not written (FILE_CHANGED), and the other writer keeps its bytes', async () => {
  const file = join(dir, 'a.xml');
  writeFileSync(file, 'theirs');
  await expect(writeIfChanged(file, 'ours', { expected: Buffer.from('as read') })).rejects.toMatchObject({
    code: 'FILE_CHANGED',
    message: `${file} changed after it was read (another program wrote it), so it was not written; run again to edit the new content`,
  });
  expect(readFileSync(file, 'utf8')).toBe('theirs');
});

test('a write that lands while the temp file is being written is found right before the rename: theirs stays, no temp file is left', async () => {
  const file = join(dir, 'a.xml');
  writeFileSync(file, 'as read');
  // the other writer strikes after our temp file is complete and before our rename
  const fs: AtomicWriteFs = {
    ...realFs,
    async open(path, flags, mode) {
      const handle = await realFs.open(path, flags, mode);
      if (flags !== 'wx') return handle;
      return { ...bind(handle), close: async () => { await handle.close(); writeFileSync(file, 'theirs'); } };
    },
  };
  await expect(writeIfChanged(file, 'ours', { expected: Buffer.from('as read'), fs })).rejects.toMatchObject({ code: 'FILE_CHANGED' });
  expect(readFileSync(file, 'utf8')).toBe('theirs');
  expect(readdirSync(dir)).toEqual(['a.xml']);
  // and with nobody else writing, the same call writes
  writeFileSync(file, 'as read');
  expect(await writeIfChanged(file, 'ours', { expected: Buffer.from('as read') })).toBe(true);
  expect(readFileSync(file, 'utf8')).toBe('ours');
});

test('a failing file system (read-only) is FILE_UNWRITABLE naming the file, which stays as it was', async () => {
  const file = join(dir, 'a.xml');
  writeFileSync(file, 'old');
  const fs: AtomicWriteFs = { ...realFs, rename: async () => Promise.reject(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })) };
  await expect(writeIfChanged(file, 'new', { fs })).rejects.toMatchObject({ code: 'FILE_UNWRITABLE', message: `cannot write ${file} (EROFS); it was left as it was` });
  expect(readFileSync(file, 'utf8')).toBe('old');
  expect(readdirSync(dir)).toEqual(['a.xml']);
});

function bind(handle: AtomicWriteHandle): AtomicWriteHandle {
  return {
    writeFile: (data) => handle.writeFile(data),
    sync: () => handle.sync(),
    chmod: (mode) => handle.chmod(mode),
    chown: (uid, gid) => (handle.chown as (u: number, g: number) => Promise<void>)(uid, gid),
    close: () => handle.close(),
  };
}
