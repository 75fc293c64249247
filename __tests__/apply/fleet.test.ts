/**
 * `applyCpuModeToHosts` with an AbortSignal, on the real libvirtd: an abort stops before the next guest
 * and the next host, stops the guests being worked on that have changed nothing yet, and never cuts a
 * guest being changed short. A host's guests are worked on a few at a time (fleet.ts).
 */

import { watch } from 'node:fs';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCpuMode } from '../../src/apply/apply-cpu-mode.js';
import { applyCpuModeToHosts, type GuestResult } from '../../src/apply/fleet.js';
import { fleetExitCode } from '../../src/cli/exit-codes.js';
import type { ErrorReport } from '../../src/errors.js';
import { VirshError } from '../../src/errors.js';
import { openVirsh, type VirshSession } from '../../src/virsh/session.js';
import { defineQemuGuest, definition, expectedAfterHostModel, type GuestKind } from './fleet-guests.js';
import { makeTempDir, removeDir, removeGuests, uniqueName } from '../virsh/throwaway-guests.js';

const SYSTEM = 'qemu:///system';
const KINDS: readonly GuestKind[] = ['plain', 'topology', 'vnc'];

let dir: string;
let backups: string;
const cleanup = new Set<string>();
beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => {
  await removeGuests(cleanup);
  await removeDir(dir);
});
beforeEach(() => { backups = mkdtempSync(join(tmpdir(), 'vn-fleet-lib-')); });
afterEach(() => rmSync(backups, { recursive: true, force: true }));

/** Six shut-off guests with a common prefix, and their definitions as libvirt keeps them. */
async function defineSix(): Promise<{ prefix: string; originals: Map<string, string>; kinds: Map<string, GuestKind> }> {
  const prefix = uniqueName('vn-fleet-lib');
  const originals = new Map<string, string>();
  const kinds = new Map<string, GuestKind>();
  for (let i = 0; i < 6; i++) {
    const name = `${prefix}-${i}`;
    const kind = KINDS[i % 3] as GuestKind;
    cleanup.add(name);
    kinds.set(name, kind);
    originals.set(name, await defineQemuGuest(dir, name, kind));
  }
  return { prefix, originals, kinds };
}

/** Exactly the guests in `edited` carry the host-model edit (exact bytes); all others are untouched. */
async function expectEditedExactly(edited: readonly string[], originals: Map<string, string>, kinds: Map<string, GuestKind>): Promise<void> {
  for (const [name, original] of originals) {
    const now = await definition(name);
    expect(now).toBe(edited.includes(name) ? expectedAfterHostModel(original, kinds.get(name) as GuestKind) : original);
  }
}

test('--all with a glob selects only the guests that match, never every guest on the host', async () => {
  const { prefix, originals, kinds } = await defineSix();
  const decoy = uniqueName('vn-fleet-decoy');
  cleanup.add(decoy);
  const decoyDefinition = await defineQemuGuest(dir, decoy, 'plain');
  const report = await applyCpuModeToHosts({ mode: 'host-model', uris: [SYSTEM], all: true, match: `${prefix}-*`, dryRun: true, backupDir: backups });
  expect(report.results.map((r) => r.guest).sort()).toEqual([...originals.keys()].sort());
  expect(report.results.every((r) => r.changed && r.dryRun && r.error === undefined)).toBe(true);
  expect(report.summary).toEqual({ hosts: 1, unreachable: [], guests: 6, changed: 6, unchanged: 0, skipped: 0, failed: 0, aborted: false });
  await expectEditedExactly([], originals, kinds);
  expect(await definition(decoy)).toBe(decoyDefinition);
}, 60_000);

/** The reported guests were changed in full, every other one is untouched, and each has one backup. */
async function expectOnlyReportedChanged(results: readonly GuestResult[], originals: Map<string, string>, kinds: Map<string, GuestKind>): Promise<void> {
  expect(results.every((r) => r.changed && r.error === undefined && r.after?.mode === 'host-model' && r.after.check === 'partial')).toBe(true);
  await expectEditedExactly(results.map((r) => r.guest), originals, kinds);
  expect(readdirSync(backups).filter((f) => f.endsWith('.xml')).sort()).toEqual(results.map((r) => r.backup?.slice(backups.length + 1)).sort());
}

test('an abort after the first result starts no other guest; those already being changed finish and are reported in order', async () => {
  const { prefix, originals, kinds } = await defineSix();
  const controller = new AbortController();
  const seen: GuestResult[] = [];
  const report = await applyCpuModeToHosts({
    mode: 'host-model', uris: [SYSTEM], match: `${prefix}-*`, backupDir: backups, signal: controller.signal,
    onResult: (result) => { seen.push(result); controller.abort(); },
  });
  // which guests were begun before the abort depends on timing (lanes.test.ts pins the rule down); what
  // holds always: the reported ones are the first of the selection, in its order, each changed in full
  expect(report.results.length).toBeGreaterThanOrEqual(1);
  expect(report.results).toEqual(seen);
  expect(report.results.map((r) => r.guest)).toEqual([...originals.keys()].slice(0, report.results.length));
  expect(report.results.every((r) => r.uri === SYSTEM)).toBe(true);
  const n = report.results.length;
  expect(report.summary).toEqual({ hosts: 1, unreachable: [], guests: n, changed: n, unchanged: 0, skipped: 0, failed: 0, aborted: true });
  await expectOnlyReportedChanged(report.results, originals, kinds);
}, 60_000);

test('an abort in the middle of a guest lets that guest finish (define, verify) and reports it done', async () => {
  const { prefix, originals, kinds } = await defineSix();
  const controller = new AbortController();
  // the backup is written after the first reads and before the compare-and-swap re-read, define and verify
  const watcher = watch(backups, () => controller.abort());
  try {
    const report = await applyCpuModeToHosts({
      mode: 'host-model', uris: [SYSTEM], match: `${prefix}-*`, backupDir: backups, signal: controller.signal,
    });
    expect(controller.signal.aborted).toBe(true);
    // the guests being worked on when the first backup appeared (lanes.test.ts pins the rule down)
    expect(report.results.length).toBeGreaterThanOrEqual(1);
    const n = report.results.length;
    expect(report.summary).toEqual({ hosts: 1, unreachable: [], guests: n, changed: n, unchanged: 0, skipped: 0, failed: 0, aborted: true });
    await expectOnlyReportedChanged(report.results, originals, kinds);
  } finally {
    watcher.close();
  }
}, 60_000);

test('a signal aborted before the edit: applyCpuMode throws ABORTED, writes no backup and defines nothing', async () => {
  const { originals, kinds } = await defineSix();
  const [guest] = [...originals.keys()];
  const controller = new AbortController();
  controller.abort();
  const session = await openVirsh({ uri: SYSTEM });
  try {
    await expect(applyCpuMode(guest as string, 'host-model', { session, backupDir: backups, signal: controller.signal }))
      .rejects.toMatchObject({ code: 'ABORTED', message: `guest "${guest}" was not changed: the operation was aborted before its edit began` });
  } finally {
    await session.close();
  }
  expect(readdirSync(backups)).toEqual([]);
  await expectEditedExactly([], originals, kinds);
}, 60_000);

test('aborted before the start: no host is connected to, none is reported unreachable, nothing changes', async () => {
  const { prefix, originals, kinds } = await defineSix();
  const controller = new AbortController();
  controller.abort();
  const report = await applyCpuModeToHosts({
    mode: 'host-model', uris: [SYSTEM, 'qemu+tcp://127.0.0.1:1/system'], match: `${prefix}-*`, backupDir: backups, signal: controller.signal,
  });
  expect(report).toEqual({
    results: [],
    summary: { hosts: 2, unreachable: [], guests: 0, changed: 0, unchanged: 0, skipped: 0, failed: 0, aborted: true },
  });
  // an interrupted run is not a success, even when it had not got to any guest
  expect(fleetExitCode(report)).toBe(1);
  await expectEditedExactly([], originals, kinds);
}, 60_000);

test('--shutdown: a guest that was changed but could not be started again is reported changed, with its backup and the start error', async () => {
  // libvirt's test driver shuts guests down at once; its guest "test" runs
  const open = async (uri: string | undefined) => {
    const session = await openVirsh(uri === undefined ? {} : { uri });
    const failingStart: VirshSession = Object.create(session) as VirshSession;
    Object.defineProperty(failingStart, 'start', {
      value: async () => { throw new VirshError('VIRSH_FAILED', 'virsh start failed at test:///default: no room', { command: ['virsh', 'start'], stderr: 'error: no room\n' }); },
    });
    return failingStart;
  };
  const report = await applyCpuModeToHosts({ mode: 'host-model', uris: ['test:///default'], guests: ['test'], shutdown: true, backupDir: backups, open });
  expect(report.results).toHaveLength(1);
  const [result] = report.results;
  expect(result).toMatchObject({
    guest: 'test', changed: true, restarted: false, after: { mode: 'host-model', check: 'partial' },
    error: { code: 'VIRSH_FAILED', message: 'guest "test" was changed, but could not be started again: virsh start failed at test:///default: no room' },
  });
  expect(result?.backup).toMatch(new RegExp(`^${backups}/test@local-\\d{8}T\\d{6}Z\\.xml$`));
  expect(fleetExitCode(report)).toBe(1);
}, 60_000);

describe('fleetExitCode: a missing guest is exit 2 alone, one failed guest in a fleet', () => {
  const summary = { hosts: 1, unreachable: [], guests: 1, changed: 0, unchanged: 0, skipped: 0, failed: 1, aborted: false };
  const result = (guest: string, error?: ErrorReport) => ({
    guest, uri: SYSTEM, mode: 'host-model' as const, changed: !error, dryRun: false, before: null, after: null, backup: null,
    shutdown: false, restarted: false, warnings: [], ...(error ? { error } : {}),
  });
  const missing = (guest: string) => result(guest, { code: 'GUEST_NOT_FOUND', message: `guest "${guest}" was not found at ${SYSTEM}` });

  test.each([
    ['one missing guest: exit 2', [missing('a')], summary, 2],
    ['two missing guests: exit 1', [missing('a'), missing('b')], { ...summary, guests: 2, failed: 2 }, 1],
    ['a missing guest beside a changed one: exit 1', [missing('a'), result('b')], { ...summary, guests: 2, changed: 1 }, 1],
    ['one missing guest on each of two hosts: exit 1', [missing('a')], { ...summary, hosts: 2 }, 1],
    ['a refused guest: exit 1', [result('a', { code: 'MODE_UNSUPPORTED', message: 'x' })], summary, 1],
    ['a changed guest: exit 0', [result('a')], { ...summary, changed: 1, failed: 0 }, 0],
  ])('%s', (_what, results, s, code) => {
    expect(fleetExitCode({ results, summary: s })).toBe(code);
  });
});
