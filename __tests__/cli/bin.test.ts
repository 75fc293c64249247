/**
 * The launcher (`dist/cli.cjs`, from src/cli/bin.ts): it runs the bundle from the code cache the build made,
 * and from nothing but the bundle's own bytes when that cache does not fit them. Each case runs in a fresh
 * `node` without flags, as a user's does (V8 takes a code cache only under the flags it was made with).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../e2e/run-cli.js';

const DIST = join(ROOT, 'dist');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** Loads the bundle through the launcher in `dir`, and prints whether the cache was used and the version. */
function load(dir: string): { status: number | null; stdout: string; stderr: string } {
  const script = [
    `const { loadBundle } = require(${JSON.stringify(join(dir, 'cli.cjs'))});`,
    'const { bundle, cacheUsed } = loadBundle();',
    "const io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env, isTTY: false };",
    "bundle.main(['--version'], io).then((code) => { console.log(`cacheUsed=${cacheUsed} exit=${code}`); });",
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the launcher, the bundle and its cache in a fresh directory, for changing one of them. */
function copyOfDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vn-launcher-'));
  for (const file of ['cli.cjs', 'cli-bundle.cjs', 'cli-bundle.cache']) copyFileSync(join(DIST, file), join(dir, file));
  return dir;
}

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});
const fresh = () => {
  const dir = copyOfDist();
  dirs.push(dir);
  return dir;
};

test('the built CLI runs from the code cache the build made for it', () => {
  expect(load(DIST)).toEqual({ status: 0, stdout: `${version}\ncacheUsed=true exit=0\n`, stderr: '' });
});

test('the cache begins with the SHA-256 of the bundle bytes followed by V8\'s data', () => {
  const cache = readFileSync(join(DIST, 'cli-bundle.cache'));
  const bundle = readFileSync(join(DIST, 'cli-bundle.cjs'));
  expect(cache.length).toBeGreaterThan(32);
  expect(cache.subarray(0, 32).toString('hex')).toBe(createHash('sha256').update(bundle).update(cache.subarray(32)).digest('hex'));
});

test('an edited bundle of the same length runs as edited: the old cache is not used', () => {
  const dir = fresh();
  const file = join(dir, 'cli-bundle.cjs');
  const source = readFileSync(file, 'utf8');
  const other = version.replace(/\d/g, (digit) => String((Number(digit) + 1) % 10));
  const edited = source.replaceAll(JSON.stringify(version), JSON.stringify(other));
  expect(edited.length).toBe(source.length);
  expect(edited).not.toBe(source);
  writeFileSync(file, edited);
  expect(load(dir)).toEqual({ status: 0, stdout: `${other}\ncacheUsed=false exit=0\n`, stderr: '' });
});

test('a cache damaged inside V8\'s data is not handed to V8 (which would crash on it), and the bundle still runs', () => {
  const dir = fresh();
  const file = join(dir, 'cli-bundle.cache');
  const cache = readFileSync(file);
  const middle = Math.floor(cache.length / 2);
  cache.fill(0x5a, middle, middle + 64);
  writeFileSync(file, cache);
  expect(load(dir)).toEqual({ status: 0, stdout: `${version}\ncacheUsed=false exit=0\n`, stderr: '' });
  expect(spawnSync(process.execPath, [join(dir, 'cli.cjs'), '--version'], { encoding: 'utf8' })).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' });
});

test('a truncated cache is not used, and the bundle still runs', () => {
  const dir = fresh();
  const file = join(dir, 'cli-bundle.cache');
  writeFileSync(file, readFileSync(file).subarray(0, 1000));
  expect(load(dir)).toEqual({ status: 0, stdout: `${version}\ncacheUsed=false exit=0\n`, stderr: '' });
});

test('an intact cache that V8 refuses (made by another V8 or with other flags) is not used, and the bundle still runs', () => {
  const dir = fresh();
  const file = join(dir, 'cli-bundle.cache');
  const data = Buffer.from(readFileSync(file).subarray(32));
  // V8's header (magic number, version and flag hashes) comes first; V8 checks it before reading on
  data.fill(0x5a, 0, 16);
  const bundle = readFileSync(join(dir, 'cli-bundle.cjs'));
  writeFileSync(file, Buffer.concat([createHash('sha256').update(bundle).update(data).digest(), data]));
  expect(load(dir)).toEqual({ status: 0, stdout: `${version}\ncacheUsed=false exit=0\n`, stderr: '' });
});

test('without a cache file the bundle runs, compiled as usual', () => {
  const dir = fresh();
  rmSync(join(dir, 'cli-bundle.cache'));
  expect(load(dir)).toEqual({ status: 0, stdout: `${version}\ncacheUsed=false exit=0\n`, stderr: '' });
});

test('the bin itself runs the CLI on its arguments and exits with its code', () => {
  const r = spawnSync(process.execPath, [join(DIST, 'cli.cjs'), 'no-such-command'], { encoding: 'utf8' });
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
    status: 2,
    stdout: '',
    stderr: "virt-nested: unknown command 'no-such-command'; run with --help for usage\n",
  });
});
