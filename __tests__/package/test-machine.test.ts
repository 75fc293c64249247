/**
 * A fresh clone on a machine without libvirt or sshd: `npm test` stops before building or testing, with
 * one sentence naming what is missing and the command that sets it up. Missing parts are simulated without
 * touching the machine: a PATH without virsh, and a network namespace of its own (`unshare -n`, root only)
 * in which nothing listens on 127.0.0.1:2222.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../e2e/run-cli.js';

const CHECK = join(ROOT, '.ci/check-test-machine.mjs');
const SETUP = 'run `sudo .ci/run` once (it installs and starts them, then runs the tests; see README.md, "Set up").\n';

let bin: string;
beforeAll(() => {
  // a PATH with node, npm and sh but no virsh
  bin = mkdtempSync(join(tmpdir(), 'vn-no-virsh-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(join(dirname(process.execPath), 'npm'), join(bin, 'npm'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(file, args, { cwd: ROOT, encoding: 'utf8', env, input: '', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('on this machine (set up by .ci/run) the check passes silently', () => {
  expect(run(process.execPath, [CHECK])).toEqual({ status: 0, stdout: '', stderr: '' });
});

test('without virsh, the check names it and the set-up command', () => {
  expect(run(process.execPath, [CHECK], { ...process.env, PATH: bin })).toEqual({
    status: 1,
    stdout: '',
    stderr: `npm test needs libvirt and sshd set up, and here virsh is not installed: ${SETUP}`,
  });
});

test('without sshd on 127.0.0.1:2222 (and without virsh), the check names both', () => {
  expect(run('/usr/bin/unshare', ['-n', process.execPath, CHECK], { ...process.env, PATH: bin })).toEqual({
    status: 1,
    stdout: '',
    stderr: `npm test needs libvirt and sshd set up, and here virsh is not installed and nothing listens on 127.0.0.1:2222 (sshd): ${SETUP}`,
  });
});

test('a plain npm test stops at once with that sentence: no build, no test run', () => {
  const bundle = join(ROOT, 'dist/cli/bundle.js');
  const before = statSync(bundle).mtimeMs;
  const r = run('npm', ['test', '--silent'], { ...process.env, PATH: bin, npm_config_update_notifier: 'false' });
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
  expect(r.stderr.startsWith(`npm test needs libvirt and sshd set up, and here virsh is not installed: ${SETUP}`)).toBe(true);
  expect(r.stderr).not.toMatch(/Test Suites|\n\s+at /);
  expect(statSync(bundle).mtimeMs).toBe(before);
});
