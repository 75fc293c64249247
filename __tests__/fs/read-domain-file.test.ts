import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readDomainFile, readDomainStream } from '../../src/fs/read-domain-file.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vn-read-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const notRegular = (path: string, kind: string) =>
  `cannot read ${path}: it is ${kind}, not a regular file; virt-nested reads domain XML only from regular files`;

test('a FIFO, a symlink to a FIFO, a directory, a symlink to a directory and /dev/zero are refused before reading (none blocks)', async () => {
  const fifo = join(dir, 'fifo.xml');
  execFileSync('mkfifo', [fifo]);
  symlinkSync(fifo, join(dir, 'to-fifo.xml'));
  mkdirSync(join(dir, 'd.xml'));
  symlinkSync(join(dir, 'd.xml'), join(dir, 'to-dir.xml'));
  const cases: Array<[string, string]> = [
    [fifo, 'a FIFO (named pipe)'],
    [join(dir, 'to-fifo.xml'), 'a FIFO (named pipe)'],
    [join(dir, 'd.xml'), 'a directory'],
    [join(dir, 'to-dir.xml'), 'a directory'],
    ['/dev/zero', 'a character device'],
  ];
  for (const [path, kind] of cases) {
    await expect(readDomainFile(path)).rejects.toMatchObject({ code: 'FILE_UNREADABLE', message: notRegular(path, kind) });
  }
});

test('the size is checked before reading: a 50 MB (sparse) file is refused by its size alone', async () => {
  const big = join(dir, 'big.xml');
  writeFileSync(big, '');
  truncateSync(big, 50 * 1024 * 1024);
  await expect(readDomainFile(big)).rejects.toMatchObject({
    code: 'FILE_UNREADABLE',
    message: `cannot read ${big}: it is 52428800 bytes, larger than the limit of 10485760 bytes (domain XML is normally a few KiB)`,
  });
  const small = join(dir, 'small.xml');
  writeFileSync(small, '<domain/>');
  await expect(readDomainFile(small, { maxBytes: 8 })).rejects.toThrow(`cannot read ${small}: it is 9 bytes, larger than the limit of 8 bytes`);
});

test('a missing file is one sentence; a regular file gives its bytes, text and encoding', async () => {
  await expect(readDomainFile(join(dir, 'nope.xml'))).rejects.toMatchObject({ code: 'FILE_UNREADABLE', message: `cannot read ${join(dir, 'nope.xml')}: no such file` });
  const file = join(dir, 'a.xml');
  const bytes = Buffer.from("<?xml version='1.0' encoding='ISO-8859-1'?><domain>caf\u00e9</domain>", 'latin1');
  writeFileSync(file, bytes);
  const read = await readDomainFile(file);
  expect([read.bytes.equals(bytes), read.text, read.encoding]).toEqual([true, "<?xml version='1.0' encoding='ISO-8859-1'?><domain>caf\u00e9</domain>", 'iso-8859-1']);
});

test('a stream is read up to the limit and refused past it, naming it', async () => {
  await expect(readDomainStream(Readable.from([Buffer.from('<domain>'), Buffer.from('</domain>')]), '<stdin>')).resolves.toMatchObject({ text: '<domain></domain>', encoding: 'utf-8' });
  let pulled = 0;
  async function* endless() {
    for (;;) {
      pulled++;
      yield Buffer.alloc(1024 * 1024, 0x20);
    }
  }
  await expect(readDomainStream(endless(), '<stdin>')).rejects.toMatchObject({
    code: 'FILE_UNREADABLE',
    message: 'cannot read <stdin>: it is larger than the limit of 10485760 bytes (domain XML is normally a few KiB)',
  });
  expect(pulled).toBe(11);
});
