import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintPaths } from '../../src/lint/lint-paths.js';

const FIXTURES = join(process.cwd(), 'fixtures', 'lint');
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vn-lint-paths-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const place = (fixture: string, name: string): string => {
  const path = join(dir, name);
  copyFileSync(join(FIXTURES, fixture), path);
  return path;
};

test('files are linted in name order, many more of them than are read ahead', async () => {
  const names = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}.xml`);
  names.forEach((name, i) => place(i % 3 === 0 ? 'cpu-missing.xml' : i % 3 === 1 ? 'cpu-check-full.xml' : 'good-host-model.xml', name));
  const report = await lintPaths([dir], { requireMode: 'any' });
  expect(report.files).toBe(30);
  expect(report.problems.map((p) => `${p.file.slice(dir.length + 1)} ${p.rule}`)).toEqual(
    names.flatMap((name, i) => (i % 3 === 0 ? [`${name} cpu-missing`] : i % 3 === 1 ? [`${name} cpu-check`] : [])),
  );
});

test('an entry that cannot be read is a problem of that file, and the run goes on', async () => {
  place('cpu-missing.xml', 'a.xml');
  symlinkSync(join(dir, 'nowhere.xml'), join(dir, 'b.xml'));
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(dir, 'sub'), join(dir, 'c.xml'));
  execFileSync('mkfifo', [join(dir, 'd.xml')]);
  symlinkSync(join(dir, 'd.xml'), join(dir, 'e.xml'));
  place('cpu-missing.xml', 'f.xml');
  const report = await lintPaths([dir]);
  expect(report.files).toBe(6);
  expect(report.problems.map((p) => [p.file.slice(dir.length + 1), p.line, p.column, p.rule, p.message])).toEqual([
    ['a.xml', 1, 1, 'cpu-missing', expect.stringMatching(/^no <cpu> element/)],
    ['b.xml', 1, 1, 'file-unreadable', `cannot read ${join(dir, 'b.xml')}: no such file`],
    ['c.xml', 1, 1, 'file-unreadable', `cannot read ${join(dir, 'c.xml')}: it is a directory, not a regular file; virt-nested reads domain XML only from regular files`],
    ['d.xml', 1, 1, 'file-unreadable', `cannot read ${join(dir, 'd.xml')}: it is a FIFO (named pipe), not a regular file; virt-nested reads domain XML only from regular files`],
    ['e.xml', 1, 1, 'file-unreadable', `cannot read ${join(dir, 'e.xml')}: it is a FIFO (named pipe), not a regular file; virt-nested reads domain XML only from regular files`],
    ['f.xml', 1, 1, 'cpu-missing', expect.stringMatching(/^no <cpu> element/)],
  ]);
});

test('a directory with no domain XML in it is a usage error naming it; so is a path that does not exist', async () => {
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'empty', 'notes.txt'), 'x');
  await expect(lintPaths([join(dir, 'empty')])).rejects.toMatchObject({
    code: 'USAGE',
    message: `${join(dir, 'empty')} holds no domain XML (no *.xml file in it or below it); name a directory of templates or the files themselves`,
  });
  await expect(lintPaths([join(dir, 'nope')])).rejects.toMatchObject({ code: 'USAGE', message: `${join(dir, 'nope')} does not exist` });
});

test('with fix, a file named twice (read ahead before its first turn rewrote it) is fixed once, with no stale problems', async () => {
  const file = place('cpu-missing.xml', 'web.xml');
  const report = await lintPaths([file, file], { fix: true });
  expect(report).toEqual({ files: 2, problems: [], fixed: [file], notFixed: [] });
  expect(readFileSync(file, 'utf8')).toContain("  </os>\n  <cpu mode='host-model' check='partial'/>\n  <clock offset='utc'/>\n");
});

test('with fix, a file edited by someone else after lint read it is not overwritten: reported as not fixed, their edit kept', async () => {
  const first = place('cpu-missing.xml', 'a.xml');
  const second = place('cpu-missing.xml', 'b.xml');
  const theirs = readFileSync(second, 'utf8').replace('web-1', 'edited-meanwhile');
  // b.xml is read ahead while a.xml is linted; the "schema" of a.xml's turn stands for the other writer
  let turn = 0;
  const schema = { validate: () => { if (turn++ === 0) writeFileSync(second, theirs); return []; } };
  const report = await lintPaths([first, second], { fix: true, schema });
  expect(report.fixed).toEqual([first]);
  expect(report.notFixed).toEqual([{ file: second, message: `${second} changed after it was read (another program wrote it), so it was not written; run again to edit the new content` }]);
  expect(report.problems.map((p) => `${p.file.slice(dir.length + 1)} ${p.rule}`)).toEqual(['b.xml cpu-missing']);
  expect(readFileSync(second, 'utf8')).toBe(theirs);
  expect(readdirSync(dir).sort()).toEqual(['a.xml', 'b.xml']);
});
