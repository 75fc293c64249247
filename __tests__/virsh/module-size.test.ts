/**
 * The modules of src stay small enough to do one job: none grows past MAX_LINES unless ALLOWED_LONG
 * names it with the reason it is still one job (docs/architecture.md says the same). A sibling of
 * module-graph.test.ts, which keeps the same modules free of import cycles.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../e2e/run-cli.js';

const SRC = join(ROOT, 'src');

/** The most lines a module of src may have, as `wc -l` counts them. */
const MAX_LINES = 300;

/**
 * Modules allowed past {@link MAX_LINES}, each with why it is one job all the same. Keep it short: an
 * entry whose module is back under the limit (or gone) fails the test, so the list cannot go stale.
 */
const ALLOWED_LONG: ReadonlyMap<string, string> = new Map<string, string>([]);

/** Lines of a text as `wc -l` counts them (newline characters). */
const lineCount = (text: string): number => text.split('\n').length - 1;

/** Each module of src (a path under src, with `/`) and its number of lines. */
function moduleSizes(): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const name of readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'))) {
    sizes.set(name.split('\\').join('/'), lineCount(readFileSync(join(SRC, name), 'utf8')));
  }
  return sizes;
}

/** One sentence per module over the limit that the allow-list does not name. */
function overLong(sizes: ReadonlyMap<string, number>, allowed: ReadonlyMap<string, string>): string[] {
  return [...sizes]
    .filter(([file, lines]) => lines > MAX_LINES && !allowed.has(file))
    .map(([file, lines]) => `src/${file} has ${lines} lines (limit ${MAX_LINES}): split it into modules of one job each, or add it to ALLOWED_LONG with the reason it is one job`);
}

/** One sentence per allow-list entry that is no longer needed. */
function staleAllowances(sizes: ReadonlyMap<string, number>, allowed: ReadonlyMap<string, string>): string[] {
  return [...allowed.keys()]
    .filter((file) => (sizes.get(file) ?? 0) <= MAX_LINES)
    .map((file) => (sizes.has(file) ? `src/${file} has ${sizes.get(file)} lines, within the limit: remove it from ALLOWED_LONG` : `src/${file} does not exist: remove it from ALLOWED_LONG`));
}

test(`no module of src has more than ${MAX_LINES} lines unless ALLOWED_LONG explains it`, () => {
  const sizes = moduleSizes();
  // the walk reaches every folder, and counts lines as wc -l does
  expect(sizes.get('index.ts')).toBe(lineCount(readFileSync(join(SRC, 'index.ts'), 'utf8')));
  expect([...sizes.keys()].filter((file) => file.startsWith('xml/')).length).toBeGreaterThan(5);
  expect(overLong(sizes, ALLOWED_LONG)).toEqual([]);
});

test('every ALLOWED_LONG entry names a module still over the limit, with a reason', () => {
  expect(staleAllowances(moduleSizes(), ALLOWED_LONG)).toEqual([]);
  expect([...ALLOWED_LONG.values()].filter((reason) => reason.trim() === '')).toEqual([]);
});

test('the size check names the module over the limit, spares an allowed one, and finds stale entries', () => {
  const sizes = new Map([
    ['a/long.ts', 301],
    ['a/allowed.ts', 420],
    ['a/short.ts', 300],
  ]);
  const allowed = new Map([
    ['a/allowed.ts', 'one table'],
    ['a/short.ts', 'was long once'],
    ['a/gone.ts', 'was split'],
  ]);
  expect(overLong(sizes, allowed)).toEqual([
    'src/a/long.ts has 301 lines (limit 300): split it into modules of one job each, or add it to ALLOWED_LONG with the reason it is one job',
  ]);
  expect(staleAllowances(sizes, allowed)).toEqual([
    'src/a/short.ts has 300 lines, within the limit: remove it from ALLOWED_LONG',
    'src/a/gone.ts does not exist: remove it from ALLOWED_LONG',
  ]);
  expect(lineCount('a\nb\n')).toBe(2);
  expect(lineCount('a\nb')).toBe(1);
});
