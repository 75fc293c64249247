import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasNoStack, ROOT, runCli } from './run-cli.js';

const GOOD = readFileSync(join(ROOT, 'fixtures/lint/good-host-model.xml'), 'utf8');
const MISSING = readFileSync(join(ROOT, 'fixtures/lint/cpu-missing.xml'), 'utf8');
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vn-set-cpu-file-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('prints the edited XML to stdout and leaves the file alone', () => {
  const file = join(dir, 'g.xml');
  writeFileSync(file, MISSING);
  expect(runCli(['set-cpu', '--file', file, '--mode', 'host-model'])).toEqual({ code: 0, stdout: GOOD, stderr: '' });
  expect(readFileSync(file, 'utf8')).toBe(MISSING);
});

test('--write rewrites atomically, keeps the mode bits, and is idempotent', () => {
  const file = join(dir, 'g.xml');
  writeFileSync(file, MISSING);
  chmodSync(file, 0o640);
  expect(runCli(['set-cpu', '--file', file, '--mode', 'host-model', '--write']))
    .toEqual({ code: 0, stdout: `${file}: <cpu> set to mode='host-model' check='partial'\n`, stderr: '' });
  expect(readFileSync(file, 'utf8')).toBe(GOOD);
  expect(statSync(file).mode & 0o777).toBe(0o640);
  const before = statSync(file).mtimeMs;
  expect(runCli(['set-cpu', '--file', file, '--mode', 'host-model', '--write']).stdout).toBe(`${file}: already mode='host-model' check='partial'; unchanged\n`);
  expect(statSync(file).mtimeMs).toBe(before);
  expect(readdirSync(dir)).toEqual(['g.xml']);
});

test('--diff prints a unified diff of the <cpu> line only', () => {
  const file = join(dir, 'g.xml');
  writeFileSync(file, MISSING);
  const r = runCli(['set-cpu', '--file', file, '--mode', 'host-model', '--diff']);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`--- ${file}\n+++ ${file}\n@@ -5,6 +5,7 @@\n   <os>\n     <type arch='x86_64' machine='pc'>hvm</type>\n   </os>\n+  <cpu mode='host-model' check='partial'/>\n   <clock offset='utc'/>\n   <devices>\n   </devices>\n`);
});

test('host-passthrough warns about migration on stderr', () => {
  const file = join(dir, 'g.xml');
  writeFileSync(file, MISSING);
  const r = runCli(['set-cpu', '--file', file, '--mode', 'host-passthrough']);
  expect(r.stderr).toBe('warning: host-passthrough ties guest "web-1" to hosts with an identical CPU for migration; host-model does not\n');
  expect(r.stdout).toBe(GOOD.replace('host-model', 'host-passthrough'));
});

test('--json prints the typed result', () => {
  const file = join(dir, 'g.xml');
  writeFileSync(file, MISSING);
  const r = runCli(['set-cpu', '--file', file, '--mode', 'host-model', '--json']);
  expect(JSON.parse(r.stdout)).toEqual({
    file, mode: 'host-model', changed: true, written: false, before: null,
    after: { mode: 'host-model', check: 'partial', features: [] },
    warnings: [],
  });
});

test('bad input: one sentence, exit 2, no stack, file untouched', () => {
  const file = join(dir, 'bad.xml');
  const broken = "<domain type='kvm'>\n  <name>x</name\n</domain>\n";
  writeFileSync(file, broken);
  const malformed = runCli(['set-cpu', '--file', file, '--mode', 'host-model', '--write']);
  expect(malformed).toEqual({ code: 2, stdout: '', stderr: `virt-nested: ${file}:3:1: the end tag </name> is not closed with '>'\n` });
  expect(readFileSync(file, 'utf8')).toBe(broken);
  const missing = runCli(['set-cpu', '--file', join(dir, 'nope.xml'), '--mode', 'host-model']);
  expect(missing).toEqual({ code: 2, stdout: '', stderr: `virt-nested: cannot read ${join(dir, 'nope.xml')}: no such file\n` });
  const mode = runCli(['set-cpu', '--file', file, '--mode', 'custom']);
  expect(mode.code).toBe(2);
  expect(mode.stderr).toBe("virt-nested: option '--mode <mode>' argument 'custom' is invalid. Allowed choices are host-model, host-passthrough; run with --help for usage\n");
  const both = runCli(['set-cpu', '--file', file, '--mode', 'host-model', '--write', '--diff']);
  expect(both).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: --write and --diff cannot be combined; pick one\n' });
  for (const r of [malformed, missing, mode, both]) expect(hasNoStack(r)).toBe(true);
  const doctype = join(dir, 'doctype.xml');
  writeFileSync(doctype, "<!DOCTYPE d [<!ENTITY a 'b'>]><domain/>");
  expect(runCli(['set-cpu', '--file', doctype, '--mode', 'host-model']).stderr)
    .toBe(`virt-nested: ${doctype}:1:1: a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)\n`);
});
