import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, hasNoStack, ROOT, runCli } from './run-cli.js';

const LINT = 'fixtures/lint';

test('a good template passes: exit 0 and a one-line summary', () => {
  const r = runCli(['lint', `${LINT}/good-host-model.xml`]);
  expect(r).toEqual({ code: 0, stdout: '1 file checked, no problems\n', stderr: '' });
});

test('text format: file:line:col severity rule message, then a summary; exit 1', () => {
  const r = runCli(['lint', '--no-schema', `${LINT}/cpu-check-full.xml`, `${LINT}/host-passthrough.xml`]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe(
    `${LINT}/cpu-check-full.xml:8:26  error  cpu-check  <cpu> has check='full'; use check='partial' so the guest starts even when the host lacks a feature a full check demands\n` +
    `${LINT}/host-passthrough.xml:8:8  warning  cpu-passthrough-migration  host-passthrough ties the guest to hosts with an identical CPU for migration; host-model does not\n` +
    '2 problems (1 error, 1 warning) in 2 files\n');
});

test('a warning alone exits 0', () => {
  expect(runCli(['lint', '--no-schema', `${LINT}/host-passthrough.xml`]).code).toBe(0);
});

test('json format over a directory: every file, the PRODUCT.md shape', () => {
  const r = runCli(['lint', '--format', 'json', LINT]);
  expect(r.code).toBe(1);
  const report = JSON.parse(r.stdout) as { files: number; problems: Array<Record<string, unknown>> };
  expect(report.files).toBe(12);
  const byFile = (name: string) => report.problems.filter((p) => p['file'] === `${LINT}/${name}`).map((p) => `${p['line']}:${p['column']} ${p['rule']}`);
  expect(byFile('good-host-model.xml')).toEqual([]);
  expect(byFile('cpu-missing.xml')).toEqual(['1:1 cpu-missing']);
  expect(byFile('xml-malformed.xml')).toEqual(['3:1 xml-malformed']);
  expect(byFile('doctype-forbidden.xml')).toEqual(['2:1 doctype-forbidden']);
  expect(byFile('not-a-domain.xml')).toEqual(['1:1 not-a-domain']);
  expect(byFile('schema-invalid.xml')).toEqual(['1:1 schema']);
  expect(Object.keys(report.problems[0] ?? {})).toEqual(['file', 'line', 'column', 'rule', 'severity', 'message']);
});

test('github format prints workflow commands', () => {
  const r = runCli(['lint', '--format', 'github', '--no-schema', `${LINT}/cpu-missing.xml`]);
  expect(r.stdout).toBe(`::error file=${LINT}/cpu-missing.xml,line=1,col=1,title=virt-nested cpu-missing::no <cpu> element, so the guest gets the hypervisor's default CPU model, which does not pass the host's vmx/svm through; add <cpu mode='host-model' check='partial'/> (virt-nested set-cpu --file FILE --mode host-model --write)\n`);
});

test('usage errors exit 2 with one sentence: a missing path, a missing --schema-dir', () => {
  const missing = runCli(['lint', 'no/such/dir']);
  expect(missing).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: no/such/dir does not exist\n' });
  const schema = runCli(['lint', '--schema-dir', '/nonexistent', LINT]);
  expect(schema).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: --schema-dir /nonexistent has no domain.rng\n' });
  expect(hasNoStack(schema)).toBe(true);
});

test('--fix rewrites failing files atomically, only <cpu>, and they then pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vn-lint-fix-'));
  try {
    for (const name of ['cpu-missing.xml', 'cpu-mode-custom.xml', 'good-host-model.xml']) copyFileSync(join(ROOT, LINT, name), join(dir, name));
    const r = runCli(['lint', '--fix', '--no-schema', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${dir}/cpu-missing.xml: fixed (<cpu> rewritten)\n${dir}/cpu-mode-custom.xml: fixed (<cpu> rewritten)\n3 files checked, no problems\n`);
    expect(readFileSync(join(dir, 'cpu-missing.xml'), 'utf8')).toBe(readFileSync(join(ROOT, LINT, 'good-host-model.xml'), 'utf8'));
    expect(readFileSync(join(dir, 'cpu-mode-custom.xml'), 'utf8')).toBe(readFileSync(join(ROOT, LINT, 'good-host-model.xml'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the whole libvirt corpus: no file is malformed', () => {
  const r = runCli(['lint', '--format', 'json', '--no-schema', 'fixtures/libvirt-9.0.0/domains']);
  const report = JSON.parse(r.stdout) as { files: number; problems: Array<{ rule: string }> };
  expect(report.files).toBe(486);
  expect(report.problems.filter((p) => ['xml-malformed', 'doctype-forbidden', 'not-a-domain'].includes(p.rule))).toEqual([]);
});

test('a reader that stops early (| head) gets no stack trace', () => {
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" lint --no-schema fixtures/libvirt-9.0.0/domains | head -1`], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stdout.split('\n')).toHaveLength(2);
  expect(r.stderr).toBe('');
});
