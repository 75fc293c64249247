import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBackupMetadata, recordDefined } from '../../src/apply/backup-metadata.js';
import { stageDefinition } from '../../src/apply/stage-definition.js';
import { writeBackup } from '../../src/apply/backup.js';
import { type BackupFs } from '../../src/apply/backup-dir.js';
import { listBackups } from '../../src/apply/list-backups.js';

let dir: string;
beforeEach(() => { dir = join(mkdtempSync(join(tmpdir(), 'vn-backup-')), 'backups'); });
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

const NOW = new Date('2026-11-25T06:15:00.123Z');
const XML = "<domain type='qemu'>\n  <name>web-1</name>\n</domain>\n";
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The id of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('a backup is the definition (0600) with its metadata beside it, in a 0700 directory', async () => {
  const path = await writeBackup(dir, 'web-1', 'qemu+ssh://root@hv1/system', XML, NOW, { uuid: 'u-1' });
  expect(path).toBe(join(dir, 'web-1@hv1-20261125T061500Z.xml'));
  expect(readFileSync(path, 'utf8')).toBe(XML);
  expect([statSync(dir).mode & 0o777, statSync(path).mode & 0o777, statSync(path.replace(/xml$/, 'json')).mode & 0o777]).toEqual([0o700, 0o600, 0o600]);
  expect(await readBackupMetadata(path)).toEqual({
    schemaVersion: 1, guest: 'web-1', uri: 'qemu+ssh://root@hv1/system', host: 'hv1', uuid: 'u-1',
    createdAt: '2026-11-25T06:15:00.123Z', sha256: sha(XML), reason: 'set-cpu', defined: null,
  });
  await recordDefined(path, 'ab'.repeat(32), new Date('2026-11-25T06:15:01.000Z'));
  expect((await readBackupMetadata(path))?.defined).toEqual({ sha256: 'ab'.repeat(32), at: '2026-11-25T06:15:01.000Z' });
  // a second one in the same second gets its own name
  expect(await writeBackup(dir, 'web-1', 'qemu+ssh://root@hv1/system', XML, NOW)).toBe(join(dir, 'web-1@hv1-20261125T061500Z-1.xml'));
  expect(readdirSync(dir).sort()).toEqual(['web-1@hv1-20261125T061500Z-1.json', 'web-1@hv1-20261125T061500Z-1.xml', 'web-1@hv1-20261125T061500Z.json', 'web-1@hv1-20261125T061500Z.xml']);
});

test.each([
  ['244 ASCII characters', 'g'.repeat(244)],
  ['30 CJK characters', '虚'.repeat(30)],
  ['a trailing space', 'web-1 '],
])('a guest name of %s: a file name well under 255 bytes, the full name in the metadata', async (_what, guest) => {
  const path = await writeBackup(dir, guest, 'qemu:///system', XML, NOW);
  const name = path.slice(dir.length + 1);
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(120);
  if (guest !== 'web-1 ') expect(name).toMatch(new RegExp(`~${sha(guest).slice(0, 16)}@local-20261125T061500Z\\.xml$`));
  else expect(name).toBe('web-1%20@local-20261125T061500Z.xml');
  expect((await readBackupMetadata(path))?.guest).toBe(guest);
  expect((await listBackups({ backupDir: dir, guest })).map((b) => b.file)).toEqual([path]);
});

test('a full disk (ENOSPC) leaves no backup at all: no empty file, no temp file, and says why', async () => {
  const full: BackupFs = {
    ...(fsPromises as unknown as BackupFs),
    open: async (path: string, flags: string, mode?: number) => {
      const handle = await fsPromises.open(path, flags, mode);
      if (flags !== 'wx') return handle;
      return {
        // half of it lands, then the disk is full
        writeFile: async (data: string) => { await handle.writeFile(data.slice(0, data.length >> 1)); throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); },
        sync: () => handle.sync(),
        chmod: (m: number) => handle.chmod(m),
        close: () => handle.close(),
      };
    },
  };
  await expect(writeBackup(dir, 'web-1', 'qemu:///system', XML, NOW, { fs: full })).rejects.toMatchObject({ code: 'ENOSPC' });
  expect(readdirSync(dir)).toEqual([]);
  await expect(stageDefinition(dir, XML, full)).rejects.toMatchObject({ code: 'ENOSPC' });
  expect(readdirSync(dir)).toEqual([]);
});

test('an empty definition is never written as a backup', async () => {
  await expect(writeBackup(dir, 'web-1', 'qemu:///system', '', NOW)).rejects.toThrow('refusing to write an empty backup of guest "web-1"');
});

test('staged definitions and temp files of killed runs are removed by the next run; those of running processes are kept', async () => {
  await fsPromises.mkdir(dir, { recursive: true, mode: 0o700 });
  const dead = deadPid();
  const left = [`.staging-${dead}-0123456789abcdef.xml`, `.web-1@local-20261125T061500Z.xml.${dead}.0123456789ab.tmp`];
  // pid 1 runs as long as the machine does
  const kept = [`.staging-1-0123456789abcdef.xml`, 'notes.txt'];
  for (const name of [...left, ...kept]) writeFileSync(join(dir, name), "<domain><graphics passwd='s3cret'/></domain>");
  const staged = await stageDefinition(dir, XML);
  expect(staged.file).toMatch(new RegExp(`^${dir}/\\.staging-${process.pid}-[0-9a-f]{16}\\.xml$`));
  expect(statSync(staged.file).mode & 0o777).toBe(0o600);
  expect(readFileSync(staged.file, 'utf8')).toBe(XML);
  expect(readdirSync(dir).sort()).toEqual([...kept, staged.file.slice(dir.length + 1)].sort());
  await staged.remove();
  expect(readdirSync(dir).sort()).toEqual([...kept].sort());
});

test('listBackups: per guest and URI, oldest first; a missing directory is no backups', async () => {
  expect(await listBackups({ backupDir: join(dir, 'none') })).toEqual([]);
  const a2 = await writeBackup(dir, 'a', 'qemu:///system', XML, new Date('2026-11-25T07:00:00Z'));
  const a1 = await writeBackup(dir, 'a', 'qemu:///system', XML, new Date('2026-11-25T06:00:00Z'));
  const b = await writeBackup(dir, 'b', 'qemu+ssh://hv2/system', XML, NOW, { reason: 'restore' });
  writeFileSync(join(dir, 'old-style@local-20251125T061500Z.xml'), XML);
  expect((await listBackups({ backupDir: dir })).map((e) => [e.guest, e.uri, e.file, e.size, e.reason])).toEqual([
    ['a', 'qemu:///system', a1, XML.length, 'set-cpu'],
    ['a', 'qemu:///system', a2, XML.length, 'set-cpu'],
    ['b', 'qemu+ssh://hv2/system', b, XML.length, 'restore'],
  ]);
  expect((await listBackups({ backupDir: dir, uri: 'qemu+ssh://hv2/system' })).map((e) => e.file)).toEqual([b]);
});
