import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintPaths } from '../../src/lint/lint-paths.js';
import { VirtNestedError } from '../../src/errors.js';

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

test('a file that cannot be read stops the run at its turn, naming it', async () => {
  place('good-host-model.xml', 'a.xml');
  symlinkSync(join(dir, 'nowhere.xml'), join(dir, 'b.xml'));
  place('good-host-model.xml', 'c.xml');
  const error = await lintPaths([dir]).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VirtNestedError);
  expect([(error as VirtNestedError).code, (error as Error).message]).toEqual(['FILE_UNREADABLE', `cannot read ${join(dir, 'b.xml')} (ENOENT)`]);
});

test('with fix, a file named twice (read ahead before its first turn rewrote it) is fixed once, with no stale problems', async () => {
  const file = place('cpu-missing.xml', 'web.xml');
  const report = await lintPaths([file, file], { fix: true });
  expect(report).toEqual({ files: 2, problems: [], fixed: [file] });
  expect(readFileSync(file, 'utf8')).toContain("  </os>\n  <cpu mode='host-model' check='partial'/>\n  <clock offset='utc'/>\n");
});
