/**
 * Another tool defines or starts the guest while set-cpu edits it, on the real libvirtd. First each
 * window on its own (the racing command awaited at a fixed point of the workflow), then a few dozen
 * trials of real concurrency (the racing virsh fired, not awaited, at points and delays that vary).
 * Nothing may be lost silently: every trial ends with either our change applied and reported, or theirs
 * kept and a non-zero outcome naming the race.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCpuModeWithHooks, type ApplyResult } from '../../src/apply/apply-cpu-mode.js';
import type { SafeDefineHooks } from '../../src/apply/define-workflow.js';
import { withHostLifecycleEvents } from '../../src/apply/watch-guest.js';
import { VirtNestedError } from '../../src/errors.js';
import { openVirsh, type VirshSession } from '../../src/virsh/session.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const TRIAL_TIMEOUT_MS = 600_000;

const guests = new Set<string>();
let dir: string;
let backups: string;
let session: VirshSession;

beforeAll(async () => {
  dir = await makeTempDir();
  backups = mkdtempSync(join(tmpdir(), 'vn-race-backups-'));
  session = await openVirsh({ uri: 'qemu:///system' });
});
afterAll(async () => {
  await session?.close();
  await removeGuests(guests);
  await removeDir(dir);
  rmSync(backups, { recursive: true, force: true });
});

/** The old CPU: startable under TCG, and recognisable in the live definition of a running guest. */
const OLD_CPU = "<cpu mode='custom' match='exact' check='partial'>\n    <model fallback='allow'>qemu64</model>\n  </cpu>";

const definition = async (name: string) =>
  (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout;

/** Defines (or redefines) the guest with the old CPU; returns its definition as libvirt has it. */
async function reset(name: string): Promise<string> {
  guests.add(name);
  // the same guest again (same UUID), or libvirt refuses the define
  const uuid = (await plainVirsh(['domuuid', '--domain', name])).stdout.trim();
  const xml = tcgGuestXml(name, "<graphics type='vnc' passwd='s3cret'/>").replace('</os>\n', `</os>\n  ${OLD_CPU}\n`)
    .replace('</name>\n', uuid ? `</name>\n  <uuid>${uuid}</uuid>\n` : '</name>\n');
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, xml)])).exitCode).toBe(0);
  return definition(name);
}

/** Another admin's define: the definition as it was, plus a description (their change), old CPU kept. */
async function theirDefine(name: string, base: string, marker: string): Promise<void> {
  const theirs = base.replace('</name>', `</name>\n  <description>${marker}</description>`);
  const r = await plainVirsh(['define', '--file', await writeTemp(dir, `${name}-${marker}.xml`, theirs)]);
  expect(r.stderr).toBe('');
}

const hasOurCpu = (xml: string) => xml.includes("<cpu mode='host-model' check='partial'");

/** The CPU a running guest really runs: libvirt expands host-model into the host's model (EPYC here). */
async function runsOldCpu(name: string): Promise<boolean> {
  return (await plainVirsh(['dumpxml', '--domain', name])).stdout.includes('>qemu64</model>');
}

type Outcome = { result: ApplyResult; error?: undefined } | { result?: undefined; error: VirtNestedError };

async function setCpu(name: string, hooks: SafeDefineHooks): Promise<Outcome> {
  return applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, hooks)
    .then((result) => ({ result }), (error: VirtNestedError) => ({ error }));
}

describe('each window on its own', () => {
  test('a define after the compare-and-swap re-read, before ours: ours is in effect, exit 1 says the other one may be replaced', async () => {
    const name = uniqueName('vn-race-w1');
    const base = await reset(name);
    const outcome = await setCpu(name, { beforeDefine: () => theirDefine(name, base, 'theirs-w1') });
    expect(outcome.error?.code).toBe('GUEST_CHANGED');
    expect(outcome.error?.message).toMatch(new RegExp(`^another tool defined guest "${name}" at the same moment as virt-nested: virt-nested's definition is in effect and may have replaced the other one; check the guest \\(the definition before: ${backups}/.+\\.xml\\)$`));
    expect(hasOurCpu(await definition(name))).toBe(true);
  });

  test('a define after ours, before the read-back: theirs is kept (never rolled back), exit 1 says so', async () => {
    const name = uniqueName('vn-race-w2');
    const base = await reset(name);
    const outcome = await setCpu(name, { afterDefine: () => theirDefine(name, base, 'theirs-w2') });
    expect(outcome.error?.code).toBe('GUEST_CHANGED');
    expect(outcome.error?.message).toMatch(new RegExp(`^another tool defined guest "${name}" right after virt-nested did: its definition is kept and virt-nested's is not in effect \\(the definition before: ${backups}/.+\\.xml\\); check the guest, then run set-cpu again$`));
    const final = await definition(name);
    expect(final).toContain('<description>theirs-w2</description>');
    expect(hasOurCpu(final)).toBe(false);
  });

  test('the same, without lifecycle events: the read-back differs outside <cpu>, so it is theirs and is kept', async () => {
    const name = uniqueName('vn-race-w2b');
    const base = await reset(name);
    const outcome = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups, watchEvents: false }, {
      afterDefine: () => theirDefine(name, base, 'theirs-w2b'),
    }).catch((error: VirtNestedError) => error);
    expect((outcome as VirtNestedError).code).toBe('GUEST_CHANGED');
    expect(await definition(name)).toContain('<description>theirs-w2b</description>');
  });

  test('a start after the re-read, before our define: exit 1, the guest runs the old CPU until shut down and started', async () => {
    const name = uniqueName('vn-race-w3');
    await reset(name);
    try {
      const outcome = await setCpu(name, { beforeDefine: async () => { expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0); } });
      expect(outcome.error?.code).toBe('GUEST_CHANGED');
      expect(outcome.error?.message).toBe(`guest "${name}" was started while it was being edited: its new definition (mode='host-model' check='partial') is in place, but the running guest keeps the old CPU until it is shut down and started again (virsh -c qemu:///system shutdown --domain ${name}, then virsh -c qemu:///system start --domain ${name}); a reboot inside the guest is not enough`);
      expect(hasOurCpu(await definition(name))).toBe(true);
      expect(await runsOldCpu(name)).toBe(true);
    } finally {
      await plainVirsh(['destroy', '--domain', name]);
    }
  });

  test('a start after our define: exit 1 all the same, since a start copies the definition before it announces itself', async () => {
    const name = uniqueName('vn-race-w4');
    await reset(name);
    try {
      const outcome = await setCpu(name, { afterDefine: async () => { expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0); } });
      expect(outcome.error?.code).toBe('GUEST_CHANGED');
      expect(outcome.error?.message).toBe(`guest "${name}" was started while it was being edited: its new definition (mode='host-model' check='partial') is in place, but the running guest may keep the old CPU until it is shut down and started again (virsh -c qemu:///system shutdown --domain ${name}, then virsh -c qemu:///system start --domain ${name}); a reboot inside the guest is not enough`);
      // here it does run the new one: the message says "may"
      expect(await runsOldCpu(name)).toBe(false);
    } finally {
      await plainVirsh(['destroy', '--domain', name]);
    }
  });

  test('undefined right after our define: left undefined (not brought back by a rollback), exit 1', async () => {
    const name = uniqueName('vn-race-w5');
    await reset(name);
    const outcome = await setCpu(name, { afterDefine: async () => { expect((await plainVirsh(['undefine', '--domain', name])).exitCode).toBe(0); } });
    expect(outcome.error?.code).toBe('GUEST_CHANGED');
    expect(outcome.error?.message).toMatch(new RegExp(`^guest "${name}" was undefined by another tool right after virt-nested defined it; it is left undefined`));
    expect((await plainVirsh(['domstate', '--domain', name])).exitCode).toBe(1);
  });
});

describe('through the watch of every guest a fleet opens once per host', () => {
  test('a define right after ours is kept, a start before ours is reported, another guest\'s events are not counted', async () => {
    const [kept, started, bystander] = [uniqueName('vn-race-h1'), uniqueName('vn-race-h2'), uniqueName('vn-race-h3')];
    const keptBase = await reset(kept);
    await reset(started);
    await reset(bystander);
    try {
      await withHostLifecycleEvents(session, async () => {
        const first = await setCpu(kept, { afterDefine: () => theirDefine(kept, keptBase, 'theirs-h1') });
        expect(first.error?.message).toMatch(/^another tool defined guest ".+" right after virt-nested did/);
        expect(await definition(kept)).toContain('<description>theirs-h1</description>');
        const second = await setCpu(started, { beforeDefine: async () => { expect((await plainVirsh(['start', '--domain', started])).exitCode).toBe(0); } });
        expect(second.error?.message).toContain('but the running guest keeps the old CPU until it is shut down and started again');
        // a define of another guest during the edit is no race of this one
        const third = await setCpu(bystander, { beforeDefine: () => theirDefine(kept, keptBase, 'not-this-guest') });
        expect(third.error).toBeUndefined();
        expect(third.result?.warnings.filter((w) => w.code === 'lifecycle-events-unavailable')).toEqual([]);
        expect(await definition(kept)).toContain('<description>not-this-guest</description>');
      });
    } finally {
      await plainVirsh(['destroy', '--domain', started]);
    }
  });
});

/** Fires `race` without waiting for it, after `delayMs`; returns when it has finished. */
function fire(race: () => Promise<void>, delayMs: number): { done: Promise<void>; start: () => void } {
  let begin!: () => void;
  const started = new Promise<void>((resolve) => { begin = resolve; });
  const done = started.then(() => new Promise((resolve) => setTimeout(resolve, delayMs))).then(race);
  return { done, start: begin };
}

/** Where a trial fires the racing command: at a hook (not awaited) or from the start of the run. */
const POINTS = ['start', 'beforeRecheck', 'beforeDefine', 'afterDefine'] as const;

describe('real concurrency: a few dozen trials each, zero losses', () => {
  const TRIALS = 24;

  test(`another virsh define racing set-cpu (${TRIALS} trials)`, async () => {
    const name = uniqueName('vn-race-define');
    const tally: Record<string, number> = {};
    const losses: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const base = await reset(name);
      const marker = `theirs-${trial}`;
      const point = POINTS[trial % POINTS.length] as (typeof POINTS)[number];
      const racer = fire(() => theirDefine(name, base, marker), (trial * 7) % 40);
      const hooks: SafeDefineHooks = point === 'start' ? {} : { [point]: async () => racer.start() };
      if (point === 'start') racer.start();
      const outcome = await setCpu(name, hooks);
      await racer.done;
      const final = await definition(name);
      const theirsKept = final.includes(`<description>${marker}</description>`);
      let kind: string;
      if (outcome.result) {
        // exit 0: their define came before our first read (we built on it) or after our read-back
        kind = theirsKept ? (hasOurCpu(final) ? 'ok:built-on-theirs' : 'ok:theirs-after-ours') : 'LOSS:theirs-overwritten-silently';
      } else if (outcome.error.code === 'GUEST_CHANGED' && theirsKept) {
        kind = 'refused:theirs-kept';
      } else if (outcome.error.code === 'GUEST_CHANGED' && hasOurCpu(final) && outcome.error.message.includes('may have replaced the other one')) {
        kind = 'reported:ours-replaced-theirs';
      } else {
        kind = `LOSS:${outcome.error.code}:${hasOurCpu(final) ? 'ours' : 'neither'}`;
      }
      tally[kind] = (tally[kind] ?? 0) + 1;
      if (kind.startsWith('LOSS')) losses.push(`trial ${trial} (${point}): ${kind}: ${outcome.error?.message ?? 'exit 0'}`);
    }
    // eslint-disable-next-line no-console
    console.log(`define races: ${JSON.stringify(tally)}`);
    expect(losses).toEqual([]);
  }, TRIAL_TIMEOUT_MS);

  test(`another virsh start racing set-cpu (${TRIALS} trials)`, async () => {
    const name = uniqueName('vn-race-start');
    const tally: Record<string, number> = {};
    const losses: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      await plainVirsh(['destroy', '--domain', name]);
      await reset(name);
      const point = POINTS[trial % POINTS.length] as (typeof POINTS)[number];
      const racer = fire(async () => { await plainVirsh(['start', '--domain', name]); }, (trial * 7) % 40);
      const hooks: SafeDefineHooks = point === 'start' ? {} : { [point]: async () => racer.start() };
      if (point === 'start') racer.start();
      const outcome = await setCpu(name, hooks);
      await racer.done;
      const running = (await plainVirsh(['domstate', '--domain', name])).stdout.startsWith('running');
      const old = running && (await runsOldCpu(name));
      const final = await definition(name);
      let kind: string;
      if (outcome.result) {
        // exit 0 with a running guest is right only when the start copied our definition (it began after our read-back)
        kind = old ? 'LOSS:exit-0-but-runs-old-cpu' : running ? 'ok:started-after-with-new-cpu' : 'ok:shut-off';
      } else if (outcome.error.code === 'GUEST_NOT_SHUT_OFF' && !hasOurCpu(final)) {
        kind = 'refused:nothing-changed';
      } else if (outcome.error.code === 'GUEST_CHANGED' && hasOurCpu(final) && outcome.error.message.includes('the old CPU until it is shut down and started again')) {
        kind = old ? 'reported:runs-old-cpu' : 'reported:may-run-old-cpu';
      } else {
        kind = `LOSS:${outcome.error.code}`;
      }
      tally[kind] = (tally[kind] ?? 0) + 1;
      if (kind.startsWith('LOSS')) losses.push(`trial ${trial} (${point}): ${kind}: ${outcome.error?.message ?? 'exit 0'}`);
    }
    await plainVirsh(['destroy', '--domain', name]);
    // eslint-disable-next-line no-console
    console.log(`start races: ${JSON.stringify(tally)}`);
    expect(losses).toEqual([]);
  }, TRIAL_TIMEOUT_MS);
});
