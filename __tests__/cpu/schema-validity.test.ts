/**
 * The edited corpus stays valid against libvirt's own RelaxNG schema (domain.rng, as installed by
 * Debian's libvirt packages). xmllint checks many files per call, so this is one process per set.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDomain } from '../../src/domain/parse-domain.js';
import { serializeDomain } from '../../src/domain/serialize-domain.js';
import type { CpuMode } from '../../src/domain/types.js';
import { setCpuMode } from '../../src/cpu/set-cpu-mode.js';

const SCHEMA = '/usr/share/libvirt/schemas/domain.rng';
const CORPUS = fileURLToPath(new URL('../../fixtures/libvirt-9.0.0/domains/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/domains/', import.meta.url));

/** The names of the files (in `dir`) that xmllint says validate against domain.rng. */
function validating(dir: string, names: readonly string[]): Set<string> {
  const result = spawnSync('xmllint', ['--noout', '--nonet', '--relaxng', SCHEMA, ...names], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  const valid = new Set<string>();
  const seen = new Set<string>();
  for (const line of result.stderr.split('\n')) {
    const ok = /^(.*) validates$/.exec(line);
    const bad = /^(.*) fails to validate$/.exec(line);
    if (ok) valid.add(ok[1]!);
    if (ok || bad) seen.add((ok ?? bad)![1]!);
  }
  // every file got a verdict: a crash or a missing schema cannot pass as "nothing validates"
  expect(seen.size).toBe(names.length);
  return valid;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'virt-nested-schema-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe.each([
  ['corpus', CORPUS, 486, 485],
  ['fixtures', FIXTURES, 17, 17],
])('%s', (label, dir, count, validBefore) => {
  const names = readdirSync(dir).filter((f) => f.endsWith('.xml')).sort();

  test.each<CpuMode>(['host-model', 'host-passthrough'])('after %s the same files validate', (mode) => {
    expect(names).toHaveLength(count);
    const before = validating(dir, names);
    expect(before.size).toBe(validBefore);
    const out = join(work, `${label}-${mode}`);
    mkdirSync(out);
    for (const name of names) {
      writeFileSync(join(out, name), serializeDomain(setCpuMode(parseDomain(readFileSync(dir + name, 'utf8')), mode)));
    }
    const after = validating(out, names);
    expect([...after].sort()).toEqual([...before].sort());
  });
});

test('an edit that broke the schema would be seen', () => {
  const out = join(work, 'broken');
  mkdirSync(out);
  const text = readFileSync(`${FIXTURES}aarch64.xml`, 'utf8').replace('<devices/>', "<cpu mode='host-model' check='sometimes'/>\n  <devices/>");
  writeFileSync(join(out, 'broken.xml'), text);
  expect(validating(out, ['broken.xml']).size).toBe(0);
});
