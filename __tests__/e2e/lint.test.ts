import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { DOMAIN_RULES, TEXT_RULES } from '../../src/lint/rules.js';
import { schemaErrors } from '../helpers/json-schema.js';
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

describe('formats and inputs (issue 15, issue 16)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vn-lint-e2e-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sarifValidator = () => {
    // the official OASIS schema is draft-04; ajv-draft-04 reads it as it is, formats checked as URLs and dates
    const Ajv04 = createRequire(import.meta.url)('ajv-draft-04') as new (options: object) => {
      addFormat(name: string, test: (value: string) => boolean): void;
      compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
    };
    const ajv = new Ajv04({ allErrors: true, strict: false });
    ajv.addFormat('uri', (value) => URL.canParse(value));
    ajv.addFormat('uri-reference', (value) => URL.canParse(value, 'file:///base/'));
    ajv.addFormat('date-time', (value) => !Number.isNaN(Date.parse(value)));
    return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'fixtures/sarif-2.1.0/sarif-schema-2.1.0.json'), 'utf8')) as object);
  };

  test('--format sarif is valid SARIF 2.1.0 (the official schema): tool virt-nested, rules with help, results with ruleId, file URI and region', () => {
    const r = runCli(['lint', '--format', 'sarif', `${LINT}/cpu-check-full.xml`, `${LINT}/host-passthrough.xml`, `${LINT}/schema-invalid.xml`]);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout) as {
      version: string;
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string; help: { text: string }; defaultConfiguration: { level: string } }> } };
        results: Array<{ ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }> }>;
      }>;
    };
    const validate = sarifValidator();
    expect([validate(log), validate.errors ?? null]).toEqual([true, null]);
    const [run] = log.runs;
    expect(log.version).toBe('2.1.0');
    expect(run?.tool.driver.name).toBe('virt-nested');
    const rules = run?.tool.driver.rules ?? [];
    expect(rules.map((rule) => rule.id)).toEqual([...TEXT_RULES, ...DOMAIN_RULES].map((rule) => rule.id));
    expect(rules.find((rule) => rule.id === 'cpu-check')).toMatchObject({
      help: { text: "the CPU check is not 'partial'. See docs/lint-rules.md#cpu-check in virt-nested for examples and the fix." },
      defaultConfiguration: { level: 'error' },
    });
    const located = (run?.results ?? []).map((result) => {
      const { artifactLocation, region } = result.locations[0]?.physicalLocation ?? { artifactLocation: { uri: '' }, region: { startLine: 0, startColumn: 0 } };
      return [result.ruleId, rules[result.ruleIndex]?.id, result.level, artifactLocation.uri, region.startLine, region.startColumn];
    });
    expect(located).toEqual([
      ['cpu-check', 'cpu-check', 'error', `${LINT}/cpu-check-full.xml`, 8, 26],
      ['cpu-passthrough-migration', 'cpu-passthrough-migration', 'warning', `${LINT}/host-passthrough.xml`, 8, 8],
      ['schema', 'schema', 'error', `${LINT}/schema-invalid.xml`, 1, 1],
    ]);
    // an absolute path is a file: URI; one with a space is percent-encoded
    const spaced = join(dir, 'my template.xml');
    copyFileSync(join(ROOT, LINT, 'cpu-missing.xml'), spaced);
    const absolute = JSON.parse(runCli(['lint', '--format', 'sarif', '--no-schema', spaced]).stdout) as typeof log;
    expect(validate(absolute)).toBe(true);
    expect(absolute.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(pathToFileURL(spaced).href);
    expect(pathToFileURL(spaced).href).toContain('my%20template.xml');
  });

  test('--format json carries schemaVersion 1 and validates against schemas/lint.schema.json', () => {
    const r = runCli(['lint', '--format', 'json', LINT]);
    const report = JSON.parse(r.stdout) as { schemaVersion: number };
    expect(report.schemaVersion).toBe(1);
    expect(schemaErrors('lint', report)).toEqual([]);
    expect(schemaErrors('lint', { ...report, schemaVersion: 2 })).not.toEqual([]);
  });

  test('--format github: past 10 errors or 10 warnings, a last notice says how many GitHub does not show', () => {
    for (let i = 0; i < 12; i++) copyFileSync(join(ROOT, LINT, 'cpu-missing.xml'), join(dir, `t${String(i).padStart(2, '0')}.xml`));
    const r = runCli(['lint', '--format', 'github', '--no-schema', dir]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(13);
    expect(lines.slice(0, 12).every((line) => line.startsWith('::error file='))).toBe(true);
    expect(lines[12]).toBe("::notice title=virt-nested::12 errors and 0 warnings were reported, but GitHub shows only 10 errors and 10 warnings per step, so 2 are not shown as annotations; they are all in this step's log, or run virt-nested lint --format text");
    // ten of each: no notice
    rmSync(join(dir, 't10.xml'));
    rmSync(join(dir, 't11.xml'));
    expect(runCli(['lint', '--format', 'github', '--no-schema', dir]).stdout).not.toContain('::notice');
  });

  test('lint - reads standard input, named <stdin>', () => {
    const input = readFileSync(join(ROOT, LINT, 'cpu-check-full.xml'), 'utf8');
    const r = runCli(['lint', '--no-schema', '-'], { input });
    expect(r).toEqual({
      code: 1,
      stdout: "<stdin>:8:26  error  cpu-check  <cpu> has check='full'; use check='partial' so the guest starts even when the host lacks a feature a full check demands\n1 problem (1 error, 0 warnings) in 1 file\n",
      stderr: '',
    });
    expect(runCli(['lint', '--no-schema', '-'], { input: readFileSync(join(ROOT, LINT, 'good-host-model.xml'), 'utf8') }))
      .toEqual({ code: 0, stdout: '1 file checked, no problems\n', stderr: '' });
    expect(runCli(['lint', '--fix', '-'], { input })).toEqual({
      code: 2,
      stdout: '',
      stderr: "virt-nested: --fix cannot write back standard input; use 'virt-nested set-cpu --file - --mode MODE' to print the fixed XML\n",
    });
  });

  test('a directory with no domain XML is exit 2 naming it', () => {
    const r = runCli(['lint', dir]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `virt-nested: ${dir} holds no domain XML (no *.xml file in it or below it); name a directory of templates or the files themselves\n` });
  });

  test('a FIFO, a *.xml symlink to a FIFO or a directory, and /dev/zero are problems of their own; the other files are still linted', () => {
    spawnSync('mkfifo', [join(dir, 'fifo.xml')]);
    symlinkSync(join(dir, 'fifo.xml'), join(dir, 'link-fifo.xml'));
    mkdirSync(join(dir, 'sub'));
    symlinkSync(join(dir, 'sub'), join(dir, 'link-dir.xml'));
    copyFileSync(join(ROOT, LINT, 'cpu-missing.xml'), join(dir, 'sub', 'real.xml'));
    const r = runCli(['lint', '--no-schema', dir, '/dev/zero']);
    const why = (path: string, kind: string) => `${path}:1:1  error  file-unreadable  cannot read ${path}: it is ${kind}, not a regular file; virt-nested reads domain XML only from regular files\n`;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      why(join(dir, 'fifo.xml'), 'a FIFO (named pipe)') +
      why(join(dir, 'link-dir.xml'), 'a directory') +
      why(join(dir, 'link-fifo.xml'), 'a FIFO (named pipe)') +
      `${join(dir, 'sub', 'real.xml')}:1:1  error  cpu-missing  no <cpu> element, so the guest gets the hypervisor's default CPU model, which does not pass the host's vmx/svm through; add <cpu mode='host-model' check='partial'/> (virt-nested set-cpu --file FILE --mode host-model --write)\n` +
      why('/dev/zero', 'a character device') +
      '5 problems (5 errors, 0 warnings) in 5 files\n');
  });

  test('--format text escapes control characters from the template: a value with &#10; cannot forge a line', () => {
    const file = join(dir, 'forged.xml');
    writeFileSync(file, readFileSync(join(ROOT, LINT, 'good-host-model.xml'), 'utf8')
      .replace("<cpu mode='host-model'", "<cpu mode='host-model&#10;1 file checked, no problems&#13;&#x9b;2J'"));
    const r = runCli(['lint', '--no-schema', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${file}:8:8  error  cpu-mode  <cpu> has mode='host-model\\n1 file checked, no problems\\r\\x9b2J'; nested virtualization needs 'host-model' or 'host-passthrough' (virt-nested set-cpu --file FILE --mode host-model --write)\n1 problem (1 error, 0 warnings) in 1 file\n`);
    expect(r.stdout).not.toMatch(/^1 file checked/m);
  });

  test('--fix of an ISO-8859-1 template keeps its bytes (no U+FFFD), its owner, group and mode', () => {
    const file = join(dir, 'latin1.xml');
    const original = Buffer.from(readFileSync(join(ROOT, LINT, 'cpu-missing.xml'), 'utf8')
      .replace('<domain', "<?xml version='1.0' encoding='ISO-8859-1'?>\n<domain")
      .replace('</name>', '</name>\n  <description>caf\u00e9 \u00e0 la cr\u00e8me</description>'), 'latin1');
    writeFileSync(file, original);
    spawnSync('chown', ['nobody:nogroup', file]);
    chmodSync(file, 0o640);
    const before = statSync(file);
    const r = runCli(['lint', '--fix', '--no-schema', file]);
    expect(r).toEqual({ code: 0, stdout: `${file}: fixed (<cpu> rewritten)\n1 file checked, no problems\n`, stderr: '' });
    const after = readFileSync(file);
    const expected = Buffer.from(original.toString('latin1').replace('  <clock', "  <cpu mode='host-model' check='partial'/>\n  <clock"), 'latin1');
    expect(after.equals(expected)).toBe(true);
    expect(after.includes(Buffer.from('\uFFFD'))).toBe(false);
    const info = statSync(file);
    expect([info.uid, info.gid, info.mode & 0o7777]).toEqual([before.uid, before.gid, 0o640]);
    expect(info.uid).not.toBe(0);
  });

  test('a template that is not UTF-8 and does not say so is a file-unreadable problem, and --fix leaves it as it was', () => {
    const file = join(dir, 'undeclared.xml');
    const bytes = Buffer.from(readFileSync(join(ROOT, LINT, 'cpu-missing.xml'), 'utf8').replace('</name>', '</name>\n  <description>caf\u00e9</description>'), 'latin1');
    writeFileSync(file, bytes);
    const r = runCli(['lint', '--fix', '--no-schema', file]);
    expect(r).toEqual({
      code: 1,
      stdout: `${file}:1:1  error  file-unreadable  ${file} is not valid UTF-8 (byte 0xE9 on line 3); if it is ISO-8859-1, say so in its XML declaration (<?xml version='1.0' encoding='ISO-8859-1'?>), or convert it to UTF-8\n1 problem (1 error, 0 warnings) in 1 file\n`,
      stderr: '',
    });
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });
});
