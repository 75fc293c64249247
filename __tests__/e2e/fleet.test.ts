/**
 * `set-cpu` over a fleet, end to end: the built CLI against four libvirt URIs at once — this machine's
 * libvirtd (qemu:///system), the same libvirtd through libvirt's ssh transport, libvirt's test driver
 * loaded with a node file, and a URI nobody answers — with 50 throw-away guests.
 *
 * qemu:///system and the ssh URI reach the same daemon, so they see the same guests: a call that edits
 * through both runs them one after the other (`--jobs 1`, ssh first) to be deterministic, and then the
 * local host finds every guest already done. Calls that change nothing (`--dry-run`) run all four at once.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, hasNoStack, runCli, type CliRun } from './run-cli.js';
import { schemaErrors } from '../helpers/json-schema.js';
import { authorizeSshKey, SSH_PORT, type SshAccess } from './ssh-access.js';
import {
  defineQemuGuest, definition, domid, expectedAfterHostModel, redefine, writeTestDriverNode, type GuestKind, type TestDriverGuest,
} from '../apply/fleet-guests.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const SYSTEM = 'qemu:///system';
const UNREACHABLE = 'qemu+tcp://127.0.0.1:1/system';
const UNREACHABLE_LINE = `virt-nested: cannot connect to libvirt at ${UNREACHABLE}: unable to connect to server at '127.0.0.1:1': Connection refused\n`;
const UNREACHABLE_FAILURE = {
  uri: UNREACHABLE,
  code: 'LIBVIRT_UNREACHABLE',
  message: `cannot connect to libvirt at ${UNREACHABLE}: unable to connect to server at '127.0.0.1:1': Connection refused`,
};
/** Every key of a result, in order (`skipped` or `error` after `changed` when there is one). */
const resultKeys = (r: Record<string, unknown>) => ['guest', 'uri', 'mode', 'changed', ...('skipped' in r ? ['skipped'] : []), ...('error' in r ? ['error'] : []),
  'dryRun', 'before', 'after', 'backup', 'shutdown', 'restarted', 'warnings'];

const P = uniqueName('vn-fleet');
const KINDS: readonly GuestKind[] = ['plain', 'topology', 'vnc'];
/** 20 TCG guests: 16 to edit, one already host-model, three running. */
const QEMU = Array.from({ length: 20 }, (_, i) => {
  const name = `${P}-q-${String(i).padStart(2, '0')}`;
  const kind: GuestKind = i === 16 ? 'host-model' : i >= 17 ? 'plain' : (KINDS[i % 3] as GuestKind);
  return { name, kind, running: i >= 17 };
});
const QEMU_SHUT_OFF = QEMU.filter((g) => !g.running);
const QEMU_RUNNING = QEMU.filter((g) => g.running);
/** 30 test-driver guests: 20 to edit, two already host-model, eight running. */
const TEST_GUESTS: TestDriverGuest[] = Array.from({ length: 30 }, (_, i) => ({
  name: `${P}-t-${String(i).padStart(2, '0')}`,
  running: i >= 22,
  cpu: i === 20 || i === 21 ? "<cpu mode='host-model' check='partial'/>"
    : i % 3 === 1 ? "<cpu mode='custom' match='exact'><model>qemu64</model><topology sockets='1' dies='1' cores='1' threads='1'/></cpu>"
      : i % 3 === 2 ? "<cpu mode='host-passthrough'/>" : '',
}));

let dir: string;
let testUri: string;
let ssh: SshAccess | undefined;
const originals = new Map<string, string>();
const runningIds = new Map<string, string>();
const cleanupGuests = new Set<string>();

beforeAll(async () => {
  dir = await makeTempDir();
  try {
    ssh = await authorizeSshKey(dir);
    const reach = await plainVirsh(['uri'], ssh.uri);
    if (reach.exitCode !== 0) {
      throw new Error(`libvirt is not reachable through ssh on 127.0.0.1:${SSH_PORT} (start sshd as .ci/run does): ${reach.stderr}`);
    }
    for (const guest of QEMU) {
      cleanupGuests.add(guest.name);
      originals.set(guest.name, await defineQemuGuest(dir, guest.name, guest.kind));
    }
    for (const guest of QEMU_RUNNING) {
      const r = await plainVirsh(['start', '--domain', guest.name]);
      if (r.exitCode !== 0) throw new Error(`start ${guest.name}: ${r.stderr}`);
      runningIds.set(guest.name, await domid(guest.name));
    }
    testUri = await writeTestDriverNode(dir, TEST_GUESTS);
  } catch (error) {
    await cleanUp();
    throw error;
  }
}, 180_000);

async function cleanUp(): Promise<void> {
  try {
    await ssh?.revoke();
  } finally {
    await removeGuests(cleanupGuests);
    await removeDir(dir);
  }
}
afterAll(cleanUp, 120_000);

/** A fresh, empty directory for backups. */
const backupDir = () => mkdtempSync(join(tmpdir(), 'vn-fleet-backups-'));

interface Result {
  uri: string; guest: string; mode: string; changed: boolean; skipped?: string;
  error?: { code: string; message: string };
  before: { mode?: string; check?: string } | null; after: { mode?: string; check?: string } | null;
  backup: string | null; dryRun: boolean; shutdown: boolean; restarted: boolean; warnings: Array<{ code: string; message: string }>;
}
interface Summary {
  hosts: number; unreachable: unknown[]; guests: number; changed: number; unchanged: number; skipped: number; failed: number; aborted: boolean;
}

/** The result lines and the summary of `--json-lines`; every line checked against its schema and for its keys. */
function parseJsonLines(run: CliRun): { results: Result[]; summary: Summary } {
  const lines = run.stdout.split('\n');
  expect(lines.pop()).toBe('');
  const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const object of objects) expect(schemaErrors('set-cpu-lines', object)).toEqual([]);
  const last = objects.pop();
  expect(Object.keys(last ?? {})).toEqual(['summary']);
  for (const object of objects) expect(Object.keys(object)).toEqual(resultKeys(object));
  return { results: objects as unknown as Result[], summary: (last as { summary: Summary }).summary };
}

/** The one document of `--json` over several guests: checked against its schema, results as `--json-lines` gives them. */
function parseJsonDocument(run: CliRun): { results: Result[]; summary: Summary } {
  const document = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(schemaErrors('set-cpu', document)).toEqual([]);
  expect(Object.keys(document)).toEqual(['schemaVersion', 'results', 'summary']);
  const results = document['results'] as Array<Record<string, unknown>>;
  for (const result of results) expect(Object.keys(result)).toEqual(resultKeys(result));
  return { results: results as unknown as Result[], summary: document['summary'] as Summary };
}

/** What a result says, without paths and messages that differ from run to run. */
const outcome = (r: Result) => ({
  uri: r.uri, guest: r.guest, changed: r.changed, skipped: r.skipped ?? null, error: r.error?.code ?? null,
  after: r.after === null ? null : `${r.after.mode}/${r.after.check}`, dryRun: r.dryRun, shutdown: r.shutdown, restarted: r.restarted, backup: r.backup !== null,
});
const byHostAndGuest = (a: { uri: string; guest: string }, b: { uri: string; guest: string }) =>
  a.uri === b.uri ? a.guest.localeCompare(b.guest) : a.uri.localeCompare(b.uri);

type Expected = 'changed' | 'unchanged' | 'skipped';
function expectedOutcome(uri: string, guest: string, what: Expected, options: { dryRun?: boolean; restarted?: boolean } = {}) {
  const dryRun = Boolean(options.dryRun);
  return {
    uri, guest, changed: what === 'changed', skipped: what === 'skipped' ? 'running' : null, error: null,
    after: what === 'skipped' ? null : 'host-model/partial', dryRun, shutdown: Boolean(options.restarted), restarted: Boolean(options.restarted),
    backup: what === 'changed' && !dryRun,
  };
}
const qemuExpected = (uri: string, done: boolean, dryRun = false) => QEMU.map((g) =>
  expectedOutcome(uri, g.name, g.running ? 'skipped' : g.kind === 'host-model' || done ? 'unchanged' : 'changed', { dryRun }));
const testExpected = (uri: string, options: { dryRun?: boolean; shutdown?: boolean } = {}) => TEST_GUESTS.map((g, i) =>
  expectedOutcome(uri, g.name, g.running && !options.shutdown ? 'skipped' : i === 20 || i === 21 ? 'unchanged' : 'changed',
    { dryRun: Boolean(options.dryRun), restarted: g.running && Boolean(options.shutdown) }));

/** Every qemu guest: the shut-off ones edited (exact bytes) or untouched; the running ones untouched, never restarted. */
async function expectQemuGuests(edited: boolean): Promise<void> {
  for (const guest of QEMU) {
    const original = originals.get(guest.name) as string;
    const now = await definition(guest.name);
    if (guest.running || !edited) expect(now).toBe(original);
    else expect(now).toBe(expectedAfterHostModel(original, guest.kind));
  }
  for (const guest of QEMU_RUNNING) {
    expect((await plainVirsh(['domstate', '--domain', guest.name])).stdout.trim()).toBe('running');
    expect(await domid(guest.name)).toBe(runningIds.get(guest.name));
  }
}

async function resetQemuGuests(): Promise<void> {
  for (const guest of QEMU_SHUT_OFF) await redefine(dir, guest.name, originals.get(guest.name) as string);
}

/** Each backup of a qemu guest is its original definition (as dumpxml gives it, without virsh's last newline), mode 0600. */
function expectBackups(results: readonly Result[]): void {
  for (const r of results.filter((x) => x.backup !== null)) {
    expect(statSync(r.backup as string).mode & 0o777).toBe(0o600);
    if (originals.has(r.guest)) expect(readFileSync(r.backup as string, 'utf8')).toBe(originals.get(r.guest)?.replace(/\n$/, ''));
  }
}

const env = (backups: string, extra: NodeJS.ProcessEnv = {}) => ({ VIRT_NESTED_BACKUP_DIR: backups, LIBVIRT_DEFAULT_URI: SYSTEM, ...extra });

test('--dry-run over all four hosts at once reports what would change and changes nothing', async () => {
  const backups = backupDir();
  try {
    const run = runCli(['set-cpu', '--mode', 'host-model', '-c', SYSTEM, '-c', (ssh as SshAccess).uri, '-c', testUri, '-c', UNREACHABLE,
      '--match', `${P}-*`, '--dry-run', '--json'], { env: env(backups) });
    expect(run.stderr).toBe(UNREACHABLE_LINE);
    expect(run.code).toBe(1);
    const { results, summary } = parseJsonDocument(run);
    expect(results.map(outcome).sort(byHostAndGuest)).toEqual([
      ...qemuExpected(SYSTEM, false, true), ...qemuExpected((ssh as SshAccess).uri, false, true), ...testExpected(testUri, { dryRun: true }),
    ].sort(byHostAndGuest));
    expect(summary).toEqual({ hosts: 4, unreachable: [UNREACHABLE_FAILURE], guests: 70, changed: 52, unchanged: 4, skipped: 14, failed: 0, aborted: false });
    expect(readdirSync(backups)).toEqual([]);
    await expectQemuGuests(false);
  } finally {
    rmSync(backups, { recursive: true, force: true });
  }
}, 120_000);

test('one call over four hosts: every guest edited (through ssh first), running ones skipped, the unreachable host named', async () => {
  const backups = backupDir();
  const sshUri = (ssh as SshAccess).uri;
  try {
    const run = runCli(['set-cpu', '--mode', 'host-model', '-c', sshUri, '-c', SYSTEM, '-c', testUri, '-c', UNREACHABLE,
      '--match', `${P}-*`, '--jobs', '1', '--json-lines'], { env: env(backups) });
    expect(run.stderr).toBe(UNREACHABLE_LINE);
    expect(run.code).toBe(1);
    expect(hasNoStack(run)).toBe(true);
    const { results, summary } = parseJsonLines(run);
    // --jobs 1: the hosts one after another, in the order given
    expect(results.map((r) => r.uri)).toEqual([...Array(20).fill(sshUri), ...Array(20).fill(SYSTEM), ...Array(30).fill(testUri)]);
    expect(results.map(outcome).sort(byHostAndGuest)).toEqual([
      ...qemuExpected(sshUri, false), ...qemuExpected(SYSTEM, true), ...testExpected(testUri),
    ].sort(byHostAndGuest));
    expect(summary).toEqual({ hosts: 4, unreachable: [UNREACHABLE_FAILURE], guests: 70, changed: 36, unchanged: 20, skipped: 14, failed: 0, aborted: false });
    for (const r of results.filter((x) => x.changed)) {
      expect(r.before?.mode).not.toBe('host-model');
      expect(r.after).toMatchObject({ mode: 'host-model', check: 'partial' });
    }
    expect(readdirSync(backups).filter((f) => f.endsWith('.xml'))).toHaveLength(36);
    expectBackups(results);
    await expectQemuGuests(true);
  } finally {
    rmSync(backups, { recursive: true, force: true });
  }
}, 180_000);

test('--hosts-file (hosts in parallel) and --jobs 1 give the same results', async () => {
  const hostsFile = await writeTemp(dir, 'hosts', `# fleet test\n${SYSTEM}\n\n   ${testUri}   # libvirt's test driver\n${UNREACHABLE}\n# ${SYSTEM} again, commented out\n`);
  const expected = [...qemuExpected(SYSTEM, false), ...testExpected(testUri)].sort(byHostAndGuest);
  const summaries: Summary[] = [];
  for (const args of [['--hosts-file', hostsFile, '--json'], ['-c', SYSTEM, '-c', testUri, '-c', UNREACHABLE, '--jobs', '1', '--json-lines']]) {
    await resetQemuGuests();
    const backups = backupDir();
    try {
      const run = runCli(['set-cpu', '--mode', 'host-model', ...args, '--match', `${P}-*`], { env: env(backups) });
      expect(run.stderr).toBe(UNREACHABLE_LINE);
      expect(run.code).toBe(1);
      const { results, summary } = args.includes('--json') ? parseJsonDocument(run) : parseJsonLines(run);
      expect(results.map(outcome).sort(byHostAndGuest)).toEqual(expected);
      summaries.push(summary);
      expectBackups(results);
      await expectQemuGuests(true);
    } finally {
      rmSync(backups, { recursive: true, force: true });
    }
  }
  expect(summaries).toEqual([
    { hosts: 3, unreachable: [UNREACHABLE_FAILURE], guests: 50, changed: 36, unchanged: 3, skipped: 11, failed: 0, aborted: false },
    { hosts: 3, unreachable: [UNREACHABLE_FAILURE], guests: 50, changed: 36, unchanged: 3, skipped: 11, failed: 0, aborted: false },
  ]);
}, 180_000);

test('--shutdown: a TCG guest without an OS ignores ACPI, so it is left running and reported after the timeout', async () => {
  const backups = backupDir();
  const guest = QEMU_RUNNING[0]!.name;
  try {
    const run = runCli(['set-cpu', guest, '--mode', 'host-model', '-c', SYSTEM, '--shutdown', '--json'], { env: env(backups, { VIRT_NESTED_SHUTDOWN_TIMEOUT: '2' }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      schemaVersion: 1, guest, uri: SYSTEM, mode: 'host-model', changed: false,
      error: { code: 'GUEST_NOT_SHUT_OFF', message: `guest "${guest}" did not shut down within 2 s; it was left running and not changed` },
      dryRun: false, before: null, after: null, backup: null, shutdown: false, restarted: false, warnings: [],
    });
    expect(schemaErrors('set-cpu', JSON.parse(run.stdout))).toEqual([]);
    // with --dry-run nothing is shut down: the plan the real run would carry out is reported, and its exit code
    const dry = runCli(['set-cpu', guest, '--mode', 'host-model', '-c', SYSTEM, '--shutdown', '--dry-run', '--json'], { env: env(backups) });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ guest, changed: true, dryRun: true, shutdown: true, restarted: false, backup: null });
    expect(schemaErrors('set-cpu', JSON.parse(dry.stdout))).toEqual([]);
    expect(readdirSync(backups)).toEqual([]);
    await expectQemuGuests(true);
  } finally {
    rmSync(backups, { recursive: true, force: true });
  }
}, 120_000);

test('--shutdown: running guests are shut down, edited and started again; shut-off ones are not started', () => {
  const backups = backupDir();
  try {
    const run = runCli(['set-cpu', '--mode', 'host-model', '-c', testUri, '--match', `${P}-t-*`, '--shutdown', '--json-lines'], { env: env(backups) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { results, summary } = parseJsonLines(run);
    expect(results.map(outcome).sort(byHostAndGuest)).toEqual(testExpected(testUri, { shutdown: true }).sort(byHostAndGuest));
    expect(summary).toEqual({ hosts: 1, unreachable: [], guests: 30, changed: 28, unchanged: 2, skipped: 0, failed: 0, aborted: false });
  } finally {
    rmSync(backups, { recursive: true, force: true });
  }
}, 120_000);

test.each([
  ['the CLI alone', false],
  ['its whole process group, as a terminal\'s Ctrl-C does', true],
])('SIGINT to %s stops after the guest being edited: every guest fully edited or untouched, exit 1, "interrupted"', async (_to, group) => {
  const prefix = uniqueName('vn-fleet-int');
  const names = Array.from({ length: 20 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  const kinds = new Map(names.map((name, i) => [name, KINDS[i % 3] as GuestKind]));
  const before = new Map<string, string>();
  for (const name of names) {
    cleanupGuests.add(name);
    before.set(name, await defineQemuGuest(dir, name, kinds.get(name) as GuestKind));
  }
  const backups = backupDir();
  try {
    const child = spawn(process.execPath, [CLI, 'set-cpu', '--mode', 'host-model', '--all', '-c', SYSTEM, '--match', `${prefix}-*`], {
      cwd: ROOT, env: { ...process.env, ...env(backups) }, stdio: ['ignore', 'pipe', 'pipe'], detached: group,
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString('utf8');
      if (!interrupted && stdout.includes('\n')) {
        interrupted = true;
        if (group) process.kill(-(child.pid as number), 'SIGINT');
        else child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (data: Buffer) => { stderr += data.toString('utf8'); });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));

    expect(interrupted).toBe(true);
    expect([code, signal]).toEqual([1, null]);
    expect(stderr).toContain('virt-nested: interrupted; finishing the guest being edited, then stopping\n');
    const lines = stdout.split('\n');
    expect(lines.pop()).toBe('');
    const summary = lines.pop();
    const reported = lines.filter((line) => line.startsWith('guest "')).map((line) => /^guest "([^"]+)": <cpu> set to /.exec(line)?.[1]);
    expect(lines).toHaveLength(reported.length * 2);
    expect(reported.length).toBeGreaterThanOrEqual(1);
    expect(reported.length).toBeLessThan(names.length);
    expect(summary).toBe(`${reported.length} guest${reported.length === 1 ? '' : 's'} on 1 host: ${reported.length} changed, 0 unchanged, 0 skipped, 0 failed; interrupted`);
    // only guests of this test, each reported at most once
    expect(new Set(reported).size).toBe(reported.length);
    for (const name of reported) expect(names).toContain(name);
    for (const name of names) {
      const now = await definition(name);
      const original = before.get(name) as string;
      if (reported.includes(name)) expect(now).toBe(expectedAfterHostModel(original, kinds.get(name) as GuestKind));
      else expect(now).toBe(original);
    }
    expect(readdirSync(backups).filter((f) => f.endsWith('.xml'))).toHaveLength(reported.length);
  } finally {
    rmSync(backups, { recursive: true, force: true });
    await removeGuests(names);
  }
}, 120_000);
