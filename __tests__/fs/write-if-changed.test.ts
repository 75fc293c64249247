import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
