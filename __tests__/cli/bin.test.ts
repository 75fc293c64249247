/**
 * The executable (`dist/cli.cjs`, from src/cli/bin.ts) as the build leaves it: it runs as a user runs it,
 * answers `--version` without loading the CLI, maps `--debug` stack traces to src/, and turns on Node's
 * compile cache where Node has one. It needs `npm run build` first (npm test does that).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../e2e/run-cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const BIN = join(ROOT, pkg.bin['virt-nested'] as string);

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(file, args, { cwd: ROOT, encoding: 'utf8', env, input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error?.message };
}

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'vn-bin-'));
  dirs.push(dir);
  return dir;
};

test('the bin is executable as built, starts with a shebang, and runs without node on the command line', () => {
  expect(statSync(BIN).mode & 0o111).toBe(0o111);
  expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  expect(run(BIN, ['--version'])).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '', error: undefined });
});

test('npx virt-nested --version runs the project\'s own bin after the build', () => {
  const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  expect(run('npx', ['virt-nested', '--version'], env)).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '', error: undefined });
}, 60_000);

test('--version and -V load nothing but the bin itself: a copy of it alone answers them', () => {
  const alone = join(tempDir(), 'cli.cjs');
  copyFileSync(BIN, alone);
  for (const flag of ['--version', '-V']) {
    expect(run(process.execPath, [alone, flag])).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '', error: undefined });
  }
  // anything else needs the CLI beside it
  expect(run(process.execPath, [alone, '--help']).stderr).toContain("Cannot find module '");
});

test('the bin runs the CLI on its arguments and exits with its code', () => {
  expect(run(process.execPath, [BIN, 'no-such-command'])).toEqual({
    status: 2,
    stdout: '',
    stderr: "virt-nested: unknown command 'no-such-command'; run with --help for usage\n",
    error: undefined,
  });
});

test('--debug stack traces point into src/ through the source maps, not into the minified bundle', () => {
  const plain = run(process.execPath, [BIN, 'lint', '/nonexistent/vn-bin-test']);
  expect(plain).toEqual({ status: 2, stdout: '', stderr: 'virt-nested: /nonexistent/vn-bin-test does not exist\n', error: undefined });
  const debug = run(process.execPath, [BIN, 'lint', '/nonexistent/vn-bin-test', '--debug']);
  expect(debug.status).toBe(2);
  const frames = debug.stderr.split('\n').filter((line) => /^\s+at /.test(line));
  expect(frames.some((line) => line.includes(`${join(ROOT, 'src/cli/main.ts')}:`))).toBe(true);
  expect(frames.filter((line) => line.includes('/dist/cli/'))).toEqual([]);
});

test('the bin turns on Node\'s compile cache where Node has one (22.1 and later), and only there', () => {
  const tmp = tempDir();
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env['NODE_COMPILE_CACHE'];
  delete env['NODE_DISABLE_COMPILE_CACHE'];
  const cached = run(process.execPath, [BIN, 'set-cpu', '--file', join(ROOT, 'fixtures/lint/cpu-missing.xml'), '--mode', 'host-model'], env);
  expect(cached.status).toBe(0);
  const nodeHasCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
  const cacheDir = join(tmp, 'node-compile-cache');
  expect(existsSync(cacheDir)).toBe(nodeHasCache);
  if (nodeHasCache) expect(readdirSync(cacheDir).length).toBeGreaterThan(0);
});

test('the build leaves no V8 code cache and no launcher of its own: dist holds the bin, the CLI chunks and the library', () => {
  expect(readdirSync(join(ROOT, 'dist')).sort()).toEqual(['cli', 'cli.cjs', 'lib']);
  const chunks = readdirSync(join(ROOT, 'dist/cli'));
  expect(chunks.filter((file) => !/\.js(\.map)?$/.test(file))).toEqual([]);
  expect(chunks).toContain('bundle.js');
  expect(readFileSync(BIN, 'utf8')).not.toContain('cachedData');
});
