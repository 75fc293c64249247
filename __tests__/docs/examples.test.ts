/**
 * docs/examples/ runs as written: the Node script over a template directory, importing 'virt-nested'
 * from a node_modules of its own as a user's script would, and the GitHub Actions workflow runs
 * exactly the lint command the README shows.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDomain, serializeDomain, setCpuMode } from '../../src/index.js';
import { CLI, ROOT } from '../e2e/run-cli.js';

const TEMPLATES = ['cpu-missing.xml', 'cpu-mode-custom.xml', 'good-host-model.xml', 'host-passthrough.xml', 'xml-malformed.xml', 'nested-feature-disabled.xml'];

describe('docs/examples/set-cpu-templates.mjs', () => {
  let dir: string;
  const read = (name: string) => readFileSync(join(dir, 'templates', name), 'utf8');
  const fixture = (name: string) => readFileSync(join(ROOT, 'fixtures/lint', name), 'utf8');
  const run = (...args: string[]) => spawnSync(process.execPath, ['set-cpu-templates.mjs', ...args], { cwd: dir, encoding: 'utf8' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vn-example-'));
    mkdirSync(join(dir, 'templates'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'virt-nested'));
    copyFileSync(join(ROOT, 'docs/examples/set-cpu-templates.mjs'), join(dir, 'set-cpu-templates.mjs'));
    for (const name of TEMPLATES) copyFileSync(join(ROOT, 'fixtures/lint', name), join(dir, 'templates', name));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('edits every template, reports the one that is not XML, and exits 1 for it', () => {
    const r = run('templates', 'host-model');
    expect(r.stdout).toBe(
      "templates/cpu-missing.xml: mode='host-model' check='partial' (was no <cpu>)\n" +
        "templates/cpu-mode-custom.xml: mode='host-model' check='partial' (was mode='custom' check='partial')\n" +
        "templates/good-host-model.xml: already mode='host-model' check='partial'\n" +
        "templates/host-passthrough.xml: mode='host-model' check='partial' (was mode='host-passthrough' check='partial')\n" +
        "templates/nested-feature-disabled.xml: already mode='host-model' check='partial'\n",
    );
    expect(r.stderr).toBe(
      "templates/nested-feature-disabled.xml: warning: guest \"web-1\" has <feature policy='disable' name='vmx'/>, which hides vmx from the guest and defeats nesting; remove it\n" +
        "templates/nested-feature-disabled.xml: warning: guest \"web-1\" has <feature policy='forbid' name='svm'/>, which hides svm from the guest and defeats nesting; remove it\n" +
        "XML_MALFORMED: templates/xml-malformed.xml:3:1: the end tag </name> is not closed with '>'\n",
    );
    expect(r.status).toBe(1);
  });

  test('the files hold what setCpuMode gives, the others are byte for byte as they were, no temp file is left', () => {
    for (const name of ['cpu-missing.xml', 'cpu-mode-custom.xml', 'host-passthrough.xml']) {
      expect(read(name)).toBe(serializeDomain(setCpuMode(parseDomain(fixture(name)), 'host-model')));
      expect(read(name)).not.toBe(fixture(name));
    }
    for (const name of ['good-host-model.xml', 'xml-malformed.xml', 'nested-feature-disabled.xml']) expect(read(name)).toBe(fixture(name));
    expect(readdirSync(join(dir, 'templates')).sort()).toEqual([...TEMPLATES].sort());
  });

  test('without arguments, with a wrong mode or a missing directory: one sentence of usage, exit 2, nothing printed on stdout', () => {
    const usage = 'usage: node set-cpu-templates.mjs DIR [host-model|host-passthrough] gives every domain XML template in DIR a CPU that exposes virtualization (default host-model).\n';
    const result = (r: ReturnType<typeof run>) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr });
    expect(result(run())).toEqual({ status: 2, stdout: '', stderr: usage });
    expect(result(run('templates', 'custom'))).toEqual({ status: 2, stdout: '', stderr: usage });
    expect(result(run('no-such-dir'))).toEqual({ status: 2, stdout: '', stderr: `no-such-dir: cannot read this directory (ENOENT); ${usage}` });
  });

  test('a second run changes nothing; lint then finds only what the script cannot fix', () => {
    const before = TEMPLATES.map(read);
    const again = run('templates');
    expect(again.status).toBe(1);
    expect(again.stdout.split('\n').filter(Boolean).every((line) => line.includes(': already '))).toBe(true);
    expect(TEMPLATES.map(read)).toEqual(before);
    const lint = spawnSync(process.execPath, [CLI, 'lint', '--format', 'json', 'templates'], { cwd: dir, encoding: 'utf8' });
    const rules = (JSON.parse(lint.stdout) as { problems: Array<{ rule: string }> }).problems.map((p) => p.rule);
    expect(rules.sort()).toEqual(['nested-feature-disabled', 'nested-feature-disabled', 'xml-malformed']);
  });
});

describe('docs/examples/lint-templates.yml', () => {
  const text = readFileSync(join(ROOT, 'docs/examples/lint-templates.yml'), 'utf8');
  const runs = [...text.matchAll(/^ *- run: (.+)$/gm)].map((m) => m[1]);

  test('runs exactly the lint command, after checkout, Node and the install', () => {
    expect(runs[runs.length - 1]).toBe('npx virt-nested lint templates/ --format github');
    const at = (line: string) => text.split('\n').findIndex((l) => l.trim() === line);
    expect(at('- uses: actions/checkout@v4')).toBeGreaterThan(-1);
    expect(at('- uses: actions/checkout@v4')).toBeLessThan(at('- uses: actions/setup-node@v4'));
    expect(at('- uses: actions/setup-node@v4')).toBeLessThan(at('- run: npm ci && npm install -g .'));
    expect(at('- run: npm ci && npm install -g .')).toBeLessThan(at('- run: npx virt-nested lint templates/ --format github'));
  });

  test('installs virt-nested from its repository, the way the README does, never from the npm registry', () => {
    expect(runs).toEqual([
      'sudo apt-get update && sudo apt-get install -y --no-install-recommends libvirt-clients',
      'git clone --depth 1 https://github.com/virt-nested/virt-nested.git "$RUNNER_TEMP/virt-nested"',
      'npm ci && npm install -g .',
      'npx virt-nested lint templates/ --format github',
    ]);
    expect(text).toContain("      - run: npm ci && npm install -g .\n        working-directory: ${{ runner.temp }}/virt-nested\n");
    const { repository } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { repository: { url: string } };
    expect(repository.url).toBe('git+https://github.com/virt-nested/virt-nested.git');
    const setUp = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(setUp).toContain('```sh\nsudo npm install -g .\n```');
  });

  test('asks for a Node that package.json engines accepts', () => {
    const { engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(engines.node).toBe('>=20.5');
    expect(text).toMatch(/^ {10}node-version: 20$/m);
  });

  test('is YAML as GitHub reads it: spaces only, two-space indentation, a name, on and jobs', () => {
    expect(text).not.toMatch(/\t/);
    for (const line of text.split('\n')) expect((/^ */.exec(line)?.[0].length ?? 0) % 2).toBe(0);
    expect(text).toMatch(/^name: .+$/m);
    expect(text).toMatch(/^on:$/m);
    expect(text).toMatch(/^jobs:$/m);
  });

  test('the README shows the same command the workflow runs', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('```sh\nnpx virt-nested lint templates/ --format github\n```');
  });
});
