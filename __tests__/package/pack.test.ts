/**
 * The npm package, as a user gets it: `npm pack`, install the tarball into an empty directory
 * (offline, from the npm cache the project's own install filled), then run the `bin` with npx,
 * import the library from an ES module, and compile TypeScript against its declarations.
 *
 * The pack runs on a copy of the project, so a build running beside this test cannot hand npm a
 * half-written dist/. It needs `npm run build` first (npm test does that).
 */
import { builtinModules } from 'node:module';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../e2e/run-cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
  files: string[];
};

/** The environment for npm: without the npm_* variables of an `npm test` that may run this. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('npm_') || /^npm_config_(cache|userconfig|registry)$/.test(name)) env[name] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv()): SpawnSyncReturns<string> {
  return spawnSync(file, args, { cwd, env, encoding: 'utf8', input: '', timeout: 60_000 });
}

const describeResult = (r: SpawnSyncReturns<string>) => ({ status: r.status, stderr: r.stderr.trim().split('\n').slice(-5).join('\n') });

let work: string;
let tarball: string;
let packed: string[];
let packedSize: number;
let app: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vn-pack-'));
  const stage = join(work, 'stage');
  const skipped = new Set(['node_modules', '.git', 'coverage', 'docs/api', 'bench/results', '.ci/cache', '.cache']);
  cpSync(ROOT, stage, { recursive: true, filter: (source) => !skipped.has(relative(ROOT, source)) && !source.endsWith('.tgz') });
  for (const built of ['dist/cli.cjs', 'dist/lib/index.js', 'dist/lib/index.d.ts']) {
    if (!existsSync(join(stage, built))) throw new Error(`${built} is missing: run npm run build first`);
  }
  // a prepare/prepack script, if the package gets one, would need the dependencies
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'));

  const pack = run('npm', ['pack', '--json', '--pack-destination', work], stage);
  expect(describeResult(pack)).toEqual({ status: 0, stderr: expect.any(String) });
  const [result] = JSON.parse(pack.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  if (!result) throw new Error('npm pack printed no result');
  tarball = join(work, result.filename);
  packed = result.files.map((f) => f.path).sort();
  packedSize = result.size;

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'vn-pack-app', private: true, type: 'module' }, null, 2)}\n`);
  let install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app);
  // a cache that lacks some metadata can still serve the tarballs
  if (install.status !== 0) install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
  expect(describeResult(install)).toEqual({ status: 0, stderr: expect.any(String) });
}, 90_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the build, the docs, LICENSE and CHANGELOG, and no tests, fixtures, sources or benchmarks', () => {
  expect(packed).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/cli.cjs', 'dist/cli/bundle.js', 'dist/cli/bundle.js.map', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/index.cjs', 'dist/lib/index.d.cts', 'docs/how-to-nested.md', 'docs/lint-rules.md']));
  expect(packed.filter((path) => /^(__tests__|fixtures|src|bench|\.ci|node_modules|docs\/api)\//.test(path))).toEqual([]);
  // the map of src/ is for contributors, who have the repository
  expect(packed.filter((path) => path.startsWith('docs/') && path.endsWith('.md')).sort()).toEqual(['docs/README.md', 'docs/decisions.md', 'docs/how-to-nested.md', 'docs/lint-rules.md']);
  expect(packed.filter((path) => /\.(tgz|tsbuildinfo)$|^(tsconfig|jest\.config|build\.mjs|typedoc\.json)/.test(path))).toEqual([]);
  expect(readFileSync(join(app, 'node_modules/virt-nested/dist/cli.cjs'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});

test('the tarball is under 300 kB, with no V8 code cache, and its source maps carry no sources', () => {
  expect(packedSize).toBeLessThan(300 * 1024);
  expect(packed.filter((path) => /\.cache$|cli-bundle/.test(path))).toEqual([]);
  const maps = packed.filter((path) => path.endsWith('.map'));
  expect(maps.length).toBeGreaterThan(0);
  for (const map of maps) {
    const { sourcesContent } = JSON.parse(readFileSync(join(app, 'node_modules/virt-nested', map), 'utf8')) as { sourcesContent?: unknown };
    expect({ map, sourcesContent }).toEqual({ map, sourcesContent: undefined });
  }
});

test('no dependency is both bundled and installed: the one installed is libxml2-wasm, the library carries the others', () => {
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/virt-nested/package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(Object.keys(installed.dependencies)).toEqual(['libxml2-wasm']);
  const code = packed.filter((path) => path.endsWith('.js')).map((path) => readFileSync(join(app, 'node_modules/virt-nested', path), 'utf8')).join('\n');
  // what a user's install gets: the package and its one dependency
  const userInstall = readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.')).sort();
  expect(userInstall).toEqual(['libxml2-wasm', 'virt-nested']);
  // the packed code imports nothing but Node's own modules, its own files and the one installed
  // dependency: execa, fast-xml-parser and the rest are bundled into it (the build checks with esbuild's
  // metafile that none of them is also installed)
  const specifiers = new Set([...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1] as string));
  const isPackageName = (s: string) => /^(@[\w.-]+\/)?[\w.-]+(\/[\w./-]*)?$/.test(s);
  const imported = [...specifiers].filter((s) => isPackageName(s) && !s.startsWith('.') && !builtinModules.includes(s) && s !== 'libxml2-wasm');
  expect(imported.sort()).toEqual([]);
  expect(code).toContain('execa');
  // the CLI imports the library's own files: one copy of it
  expect(code).toMatch(/from"\.\.\/lib\/[\w/-]+\.js"/);
});

test('package.json states the Node versions supported, the bin and the files', () => {
  expect(pkg.engines.node).toBe('>=20.5');
  expect(pkg.bin).toEqual({ 'virt-nested': 'dist/cli.cjs' });
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/virt-nested/package.json'), 'utf8')) as typeof pkg;
  expect(installed.engines).toEqual(pkg.engines);
  expect(installed.version).toBe(pkg.version);
});

test('npx virt-nested --version runs the installed bin and prints the version', () => {
  const r = run('npx', ['virt-nested', '--version'], app, { ...npmEnv(), npm_config_offline: 'true' });
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '' });
});

test('the installed CLI does its job: set-cpu --file and lint (with its schema engine) work from the package', () => {
  writeFileSync(join(app, 'web.xml'), readFileSync(join(ROOT, 'fixtures/lint/cpu-missing.xml'), 'utf8'));
  const cli = join(app, 'node_modules/.bin/virt-nested');
  const edit = run(cli, ['set-cpu', '--file', 'web.xml', '--mode', 'host-model', '--write'], app);
  expect({ status: edit.status, stdout: edit.stdout }).toEqual({ status: 0, stdout: "web.xml: <cpu> set to mode='host-model' check='partial'\n" });
  const lint = run(cli, ['lint', 'web.xml'], app);
  expect({ status: lint.status, stdout: lint.stdout }).toEqual({ status: 0, stdout: '1 file checked, no problems\n' });
});

test('an ES module imports the library by its name and uses it', () => {
  writeFileSync(join(app, 'use.mjs'), [
    "import { readFileSync } from 'node:fs';",
    "import { parseDomain, setCpuMode, serializeDomain, DomainXmlError } from 'virt-nested';",
    "import pkg from 'virt-nested/package.json' with { type: 'json' };",
    "const xml = \"<domain type='kvm'>\\n  <name>web-1</name>\\n  <os>\\n    <type arch='x86_64'>hvm</type>\\n  </os>\\n</domain>\\n\";",
    'const domain = parseDomain(xml);',
    "const next = setCpuMode(domain, 'host-model');",
    'console.log(pkg.name, domain.name, serializeDomain(domain) === xml, next.cpu.mode, next.cpu.check);',
    'process.stdout.write(serializeDomain(next));',
    "try { parseDomain('<network/>'); } catch (e) { console.log(e instanceof DomainXmlError, e.code); }",
    '',
  ].join('\n'));
  const r = run(process.execPath, ['use.mjs'], app);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(r.stdout).toBe(
    'virt-nested web-1 true host-model partial\n' +
      "<domain type='kvm'>\n  <name>web-1</name>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n  <cpu mode='host-model' check='partial'/>\n</domain>\n" +
      'true XML_NOT_DOMAIN\n',
  );
});

test('a CommonJS program requires the package by its name and gets the same library', () => {
  writeFileSync(join(app, 'use.cjs'), [
    "const virtNested = require('virt-nested');",
    "const { parseDomain, setCpuMode, serializeDomain, VirtNestedError } = virtNested;",
    "const next = setCpuMode(parseDomain(\"<domain type='kvm'><name>web-1</name></domain>\"), 'host-passthrough');",
    'console.log(serializeDomain(next));',
    "try { setCpuMode(next, 'custom'); } catch (e) { console.log(e instanceof VirtNestedError, e.code); }",
    "import('virt-nested').then((esm) => console.log(esm.VirtNestedError === VirtNestedError));",
    '',
  ].join('\n'));
  const r = run(process.execPath, ['use.cjs'], app);
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
    status: 0,
    stdout: "<domain type='kvm'><name>web-1</name><cpu mode='host-passthrough' check='partial'/></domain>\ntrue USAGE\ntrue\n",
    stderr: '',
  });
});

test('@arethetypeswrong/cli finds no problem in the tarball (types for import and require, under node10, node16 and bundlers)', () => {
  const r = run(process.execPath, [join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], work);
  const report = JSON.parse(r.stdout) as { problems?: unknown; analysis?: { problems?: unknown[] } };
  expect({ status: r.status, problems: report.problems, analysis: report.analysis?.problems }).toEqual({ status: 0, problems: {}, analysis: [] });
}, 60_000);

test('TypeScript (NodeNext) resolves the types: a correct program compiles and runs, a wrong call is an error', () => {
  writeFileSync(join(app, 'use.ts'), [
    "import { parseDomain, setCpuMode, serializeDomain, type CpuMode, type Domain } from 'virt-nested';",
    '',
    "const mode: CpuMode = 'host-passthrough';",
    "const domain: Domain = parseDomain(\"<domain type='kvm'><name>db-1</name></domain>\");",
    'const next: Domain = setCpuMode(domain, mode);',
    'const check: string | undefined = next.cpu?.check;',
    'console.log(serializeDomain(next), check, next.warnings.map((w) => w.code).join(","));',
    'export function wrong(): void {',
    '  // @ts-expect-error: custom is not a mode setCpuMode sets',
    "  setCpuMode(domain, 'custom');",
    '  // @ts-expect-error: the model is read-only',
    "  domain.name = 'renamed';",
    '}',
    '',
  ].join('\n'));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
      outDir: 'out',
    },
    files: ['use.ts'],
  }));
  const tsc = run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  expect({ status: tsc.status, stdout: tsc.stdout }).toEqual({ status: 0, stdout: '' });
  const r = run(process.execPath, ['out/use.js'], app);
  expect({ status: r.status, stdout: r.stdout }).toEqual({
    status: 0,
    stdout: "<domain type='kvm'><name>db-1</name><cpu mode='host-passthrough' check='partial'/></domain> partial host-passthrough-migration\n",
  });
}, 60_000);
