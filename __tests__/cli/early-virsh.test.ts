/**
 * The virsh the executable starts for a plain `set-cpu` before the CLI loads (src/cli/early-virsh.ts):
 * which command lines qualify, that only the session for its URI adopts it, once, and that a run which
 * never connects quits it. Then, through the real executable and a real libvirtd, a `virsh` first on PATH
 * that notes every start shows the run starting exactly the virsh processes it did before (its session
 * and its watch), with none left running and no history directory left behind.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { earlyVirshUri, startEarlyVirsh } from '../../src/cli/early-virsh.js';
import type { StartedVirsh } from '../../src/virsh/start-virsh.js';
import type { VirshExit } from '../../src/virsh/virsh-process.js';
import { historyParent } from '../../src/virsh/history-dir.js';
import { runCli } from '../e2e/run-cli.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

describe('which command lines start virsh early', () => {
  test.each([
    [['set-cpu', 'web-1'], { uri: undefined }],
    [['set-cpu', 'web-1', '-c', 'qemu:///system'], { uri: 'qemu:///system' }],
    [['set-cpu', '--connect', 'qemu+ssh://root@hv1/system', 'web-1', 'web 2'], { uri: 'qemu+ssh://root@hv1/system' }],
    [['set-cpu', '--connect=qemu:///system', '--all', '--dry-run'], { uri: 'qemu:///system' }],
    [['set-cpu', '--mode', 'host-passthrough', '--nested', 'on', '--match', 'web-*', '--jobs', '2', '--json'], { uri: undefined }],
    // --match takes `-c` as its glob
    [['set-cpu', '--match', '-c', 'web-1'], { uri: undefined }],
    [['set-cpu', '--mode=host-model', '--nested=off', '--shutdown', '--json-lines', '--diff', '--debug', 'ünïcode guest'], { uri: undefined }],
  ])('%j → %j', (argv, expected) => {
    expect(earlyVirshUri(argv)).toEqual(expected);
  });

  test.each([
    [['check-guest', 'web-1']],
    [['lint', 'templates/']],
    [['set-cpu', '--file', 'guest.xml']],
    [['set-cpu', '--file=guest.xml']],
    [['set-cpu', '--hosts-file', 'hosts.txt', 'web-1']],
    [['set-cpu', '-c', 'qemu:///system', '-c', 'qemu+ssh://hv2/system', 'web-1']],
    [['set-cpu', 'web-1', '--help']],
    [['set-cpu', '-h']],
    [['set-cpu', '--', '-web']],
    [['set-cpu', '-cqemu:///system', 'web-1']],
    [['set-cpu', 'web-1', '--no-such-option']],
    [['set-cpu', 'web-1', '-c']],
    [['set-cpu', 'web-1', '-c', '']],
    [['set-cpu', 'web-1', '-c', 'qemu:///system\nquit']],
    // usage errors: set-cpu refuses these values before it connects anywhere
    [['set-cpu', 'web-1', '--mode', 'bogus']],
    [['set-cpu', 'web-1', '--mode=custom']],
    [['set-cpu', 'web-1', '--nested', 'keep']],
    [['set-cpu', 'web-1', '--nested=yes']],
    [['set-cpu', 'web-1', '--mode']],
    [[]],
  ])('%j → none', (argv) => {
    expect(earlyVirshUri(argv)).toBeUndefined();
  });
});

/** A started virsh that records what it was sent, and exits when told to quit (or when killed). */
function fakeStarted(uri: string | undefined) {
  const written: string[] = [];
  const kills: string[] = [];
  let exit!: (e: VirshExit) => void;
  const exited = new Promise<VirshExit>((resolve) => { exit = resolve; });
  const stdin = {
    write: (text: string) => written.push(text),
    end: (text: string) => { written.push(text); if (text === 'quit\n') exit({ exitCode: 0 }); },
    on: () => stdin,
  };
  const started: StartedVirsh = {
    uri,
    virshPath: 'virsh',
    argv: ['-q'],
    shownUri: uri ?? 'the default URI',
    process: { pid: 4242, stdin, stdout: new PassThrough(), stderr: new PassThrough(), exited, kill: (signal) => { kills.push(signal); } },
  };
  return { started, written, kills, starts: [] as Array<string | undefined> };
}

describe('adopting or quitting it', () => {
  test('only the session for its URI takes it, and only once', async () => {
    const fake = fakeStarted('qemu:///system');
    const early = startEarlyVirsh(['set-cpu', 'web-1', '-c', 'qemu:///system'], (options) => { fake.starts.push(options?.uri); return fake.started; });
    expect(fake.starts).toEqual(['qemu:///system']);
    expect(early?.take('qemu+ssh://hv1/system')).toBeUndefined();
    expect(early?.take(undefined)).toBeUndefined();
    expect(early?.take('qemu:///system')).toBe(fake.started);
    expect(early?.take('qemu:///system')).toBeUndefined();
    // taken: its session closes it, dispose leaves it alone
    await early?.dispose();
    expect(fake.written).toEqual([]);
  });

  test('a run that never took it quits it and waits until it has exited', async () => {
    const fake = fakeStarted(undefined);
    const early = startEarlyVirsh(['set-cpu', 'web-1'], () => fake.started);
    await early?.dispose();
    expect(fake.written).toEqual(['quit\n']);
    expect(fake.kills).toEqual([]);
    expect(early?.take(undefined)).toBeUndefined();
  });

  test('nothing is started for a command line that does not qualify', () => {
    const starts: unknown[] = [];
    expect(startEarlyVirsh(['set-cpu', '--file', 'guest.xml'], (options) => { starts.push(options); return fakeStarted(undefined).started; })).toBeUndefined();
    expect(starts).toEqual([]);
  });
});

describe('through the executable, on a real libvirtd', () => {
  const guests = new Set<string>();
  let dir: string;
  let noting: string;
  let backups: string;
  beforeAll(async () => {
    dir = await makeTempDir();
    backups = mkdtempSync(join(tmpdir(), 'vn-early-backups-'));
    // a virsh that notes each start (its pid and arguments), then becomes the real one
    noting = mkdtempSync(join(tmpdir(), 'vn-early-virsh-'));
    const real = spawnSync('sh', ['-c', 'command -v virsh'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(noting, 'virsh'), `#!/bin/sh\necho "$$ $*" >> '${join(noting, 'started')}'\nexec '${real}' "$@"\n`);
    chmodSync(join(noting, 'virsh'), 0o755);
    mkdirSync(join(noting, 'tmp', basename(historyParent())), { recursive: true, mode: 0o700 });
  });
  afterAll(async () => {
    await removeGuests(guests);
    await removeDir(dir);
    rmSync(backups, { recursive: true, force: true });
    rmSync(noting, { recursive: true, force: true });
  });

  const started = () => readFileSync(join(noting, 'started'), 'utf8').trim().split('\n').map((line) => line.replace(/^\d+ /, ''));
  const pids = () => readFileSync(join(noting, 'started'), 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[0]));
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  // the run's own TMPDIR: other tests running meanwhile make history directories under the shared one
  const env = () => ({ PATH: `${noting}:${process.env['PATH'] ?? ''}`, VIRT_NESTED_BACKUP_DIR: backups, TMPDIR: join(noting, 'tmp') });
  const historyDirs = () => readdirSync(join(noting, 'tmp', basename(historyParent())));

  test('set-cpu GUEST starts its session and its watch, no third virsh; none is left running', async () => {
    const name = uniqueName('vn-early');
    guests.add(name);
    expect((await plainVirsh(['define', '--file', await writeTemp(dir, 'guest.xml', tcgGuestXml(name))])).exitCode).toBe(0);
    rmSync(join(noting, 'started'), { force: true });
    const run = runCli(['set-cpu', name, '--mode', 'host-model', '-c', 'qemu:///system'], { env: env() });
    expect(run.stderr).toBe(`warning: guest "${name}" has domain type 'qemu', not 'kvm': the guest's hypervisors will run without hardware acceleration\nwarning: while the guest runs nested guests it cannot be saved or live-migrated; stop them first\n`);
    expect(run.code).toBe(0);
    expect(started()).toEqual(['-q -c qemu:///system', '-q -c qemu:///system']);
    expect(pids().filter(alive)).toEqual([]);
    expect(historyDirs()).toEqual([]);
  });

  test('a run that ends with a usage error quits the virsh it started early, and leaves nothing behind', () => {
    rmSync(join(noting, 'started'), { force: true });
    const run = runCli(['set-cpu', 'web-1', '--jobs', '0', '-c', 'qemu:///system'], { env: env() });
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: --jobs must be a positive whole number, not "0"\n' });
    expect(started()).toEqual(['-q -c qemu:///system']);
    expect(pids().filter(alive)).toEqual([]);
    expect(historyDirs()).toEqual([]);
  });

  test('a --mode set-cpu refuses starts no virsh at all', () => {
    rmSync(join(noting, 'started'), { force: true });
    const run = runCli(['set-cpu', 'web-1', '--mode', 'bogus', '-c', 'qemu:///system'], { env: env() });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: "virt-nested: option '--mode <mode>' argument 'bogus' is invalid. Allowed choices are host-model, host-passthrough; run with --help for usage\n",
    });
    expect(() => readFileSync(join(noting, 'started'), 'utf8')).toThrow(/ENOENT/);
  });

  test('set-cpu --file starts no virsh at all', () => {
    rmSync(join(noting, 'started'), { force: true });
    const file = join(noting, 'guest.xml');
    writeFileSync(file, tcgGuestXml('vn-early-file'));
    const run = runCli(['set-cpu', '--file', file, '--mode', 'host-model'], { env: env() });
    expect(run.code).toBe(0);
    expect(() => readFileSync(join(noting, 'started'), 'utf8')).toThrow(/ENOENT/);
  });
});
