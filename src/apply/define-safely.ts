/**
 * The define half of every change virt-nested makes to a guest (set-cpu, restore): compare-and-swap
 * re-read, `virsh define --validate`, read-back, and a rollback that undoes only what virt-nested itself
 * wrote. Reading and planning the change happen before, in the command's own module.
 *
 * libvirt has no compare-and-swap define, so another client can still define or start the guest between
 * our re-read and our define, or between our define and our read-back. Those are found from libvirt's
 * lifecycle events, watched on a second connection opened before the re-read (`virsh/lifecycle-events.ts`),
 * together with what the read-back holds; `docs/decisions.md` lists what is reported in each case.
 */
import { VirtNestedError } from '../errors.js';
import type { LifecycleEvent, LifecycleWatch } from '../virsh/lifecycle-events.js';
import { virshHint } from '../virsh/hint.js';
import { libvirtMessage, refusedByLibvirt, unfinishedDefine } from './define-failure.js';
import { requireShutOff, type SafeDefine, type VirshCommands } from './define-workflow.js';
import { domainId } from '../virsh/dominfo.js';
import { readDefinition, readGuest, type ApplyWarning } from './plan-cpu-mode.js';
import { rollback } from './rollback.js';


/** What {@link defineSafely} did: our definition is in effect. */
export interface SafeDefineResult {
  /** The definition as read back after define. */
  readonly readBack: string;
  readonly warnings: readonly ApplyWarning[];
  /**
   * A race that left our definition in effect but must not pass as a plain success (the guest was
   * started with the old definition, or another define landed at the same moment): exit 1 after the
   * caller has recorded what it defined.
   */
  readonly race: VirtNestedError | undefined;
}

/**
 * How long to wait for libvirt's event of our own define before deciding the watch is blind. It is
 * waited for in full only when the events really do not come; 3 s was too short on a loaded host
 * (two cores, parallel test runs), which then warned and lost the race detection for nothing.
 */
const OWN_EVENT_TIMEOUT_MS = 10_000;
/** Events arrive in bursts within a millisecond; a gap this long means libvirt has sent what it had. */
const SETTLE_MS = 25;

const isDefined = (e: LifecycleEvent) => e.event === 'Defined';
const isStarted = (e: LifecycleEvent) => e.event === 'Started';
const lastIndexOf = (events: readonly LifecycleEvent[], test: (e: LifecycleEvent) => boolean) => events.map(test).lastIndexOf(true);

/** Waits until the events up to now have all arrived: ours, then a short quiet gap. */
async function settle(watch: LifecycleWatch, defines: number): Promise<boolean> {
  const seen = await watch.waitFor((events) => events.filter(isDefined).length >= defines, OWN_EVENT_TIMEOUT_MS);
  for (let count = watch.events.length; await watch.waitFor((events) => events.length > count, SETTLE_MS); count = watch.events.length) {
    // another event came in: wait for the gap after it
  }
  return seen;
}

/**
 * After our define: whether the guest has started meanwhile (its id: one call to libvirt, where the
 * state read before the define also needs the managed save image) and its definition, asked together.
 */
async function readAfterDefine(session: VirshCommands, guest: string): Promise<[{ readonly active: boolean }, string]> {
  return Promise.all([
    domainId(session, guest, { pipeline: true }).then((id) => ({ active: id !== undefined })),
    readDefinition(session, guest),
  ]);
}

/**
 * Re-reads (compare-and-swap), defines the staged definition with `--validate`, reads it back and
 * decides, from the read-back and the lifecycle events, whether our definition is in effect. A read-back
 * that our own define made but is not what was asked is rolled back to `original`; a definition someone
 * else defined is never touched.
 *
 * @example
 * const { readBack, race } = await defineSafely({ session, guest, command: 'set-cpu', original, staged, … });
 */
export async function defineSafely(plan: SafeDefine): Promise<SafeDefineResult> {
  const { session, guest, command, original, backup, hooks } = plan;
  const who = `guest "${guest}"`;
  const warnings: ApplyWarning[] = [];
  await hooks.beforeRecheck?.();
  let watch = plan.watch !== undefined && (await plan.watch.ready) ? plan.watch : undefined;
  if (plan.watch !== undefined && watch === undefined) {
    warnings.push({
      code: 'lifecycle-events-unavailable',
      message: `libvirt's lifecycle events of ${who} could not be watched at ${session.uri}; a define or start by another tool during the edit is found only from what the definition holds afterwards`,
    });
  }

  // compare-and-swap, right before define: the guest may have started, or another tool edited it, since the first read
  const [now, current] = await readGuest(session, guest);
  requireShutOff(session, guest, now, command, (state) => `${who} became ${state} while it was being edited; nothing was changed`);
  if (current !== original) {
    throw new VirtNestedError('GUEST_CHANGED', `the definition of ${who} changed while it was being edited (another tool?); nothing was changed, run ${command} again`);
  }

  await hooks.beforeDefine?.();
  try {
    await session.define(plan.staged.file, { validate: true });
  } catch (error) {
    // only libvirt's refusal is DEFINE_FAILED (exit 1); virsh gone or timed out says nothing of the definition
    if (!refusedByLibvirt(error)) throw unfinishedDefine(error, who, backup);
    const after = await readDefinition(session, guest).catch(() => undefined);
    const kept = after === original ? 'the original is kept' : 'the definition is left as libvirt now has it';
    throw new VirtNestedError('DEFINE_FAILED', `libvirt refused the new definition of ${who}: ${libvirtMessage(error)}; ${kept} (backup: ${backup})`, { cause: error });
  }
  await hooks.afterDefine?.();

  // the read-back goes to virsh at once; the events are waited for meanwhile: a define by another tool
  // before the read-back sends its event within the quiet gap after ours
  const reading = readAfterDefine(session, guest);
  reading.catch(() => undefined);
  // a read-back that is what was asked is in effect whatever the events then say (a race is reported
  // on top of it): recording it needs nothing more, so it is done while the events settle
  const recording = reading.then(([, xml]) => (plan.record && plan.wanted(xml) ? plan.record(xml) : []), () => []);
  if (watch !== undefined && !(await settle(watch, 1))) {
    warnings.push({
      code: 'lifecycle-events-unavailable',
      message: `libvirt sent no lifecycle event for virt-nested's own define of ${who} at ${session.uri}; a define or start by another tool is found only from what the definition holds afterwards`,
    });
    watch = undefined;
  }
  let readBack: string;
  let after: { readonly active: boolean };
  try {
    [after, readBack] = await reading;
  } catch (error) {
    if (error instanceof VirtNestedError && error.code === 'GUEST_NOT_FOUND') {
      throw new VirtNestedError('GUEST_CHANGED', `${who} was undefined by another tool right after virt-nested defined it; it is left undefined (its definition before: ${backup})`, { cause: error });
    }
    throw new VirtNestedError('VERIFY_FAILED', `the definition of ${who} could not be read back after define (${libvirtMessage(error)}); it is left as it is (the definition before: ${backup})`, { cause: error });
  }
  if (watch !== undefined && after.active) {
    // the guest runs (or is starting), so its Started event is on its way
    await watch.waitFor((events) => events.some(isStarted), OWN_EVENT_TIMEOUT_MS);
  }
  const wanted = plan.wanted(readBack);
  // before blaming our own define (and rolling it back), let the event of a define that landed just
  // before the read-back arrive: a second quiet gap
  if (!wanted && watch !== undefined) await settle(watch, 1);
  const events = watch === undefined ? undefined : [...watch.events];
  const defines = events?.filter(isDefined).length;

  if (!wanted) {
    const ours = !(plan.changedElsewhere?.(readBack) ?? false) && (defines === undefined ? plan.looksOurs(readBack) : defines === 1);
    if (!ours) {
      throw new VirtNestedError('GUEST_CHANGED',
        `another tool defined ${who} right after virt-nested did: its definition is kept and virt-nested's is not in effect (the definition before: ${backup}); check the guest, then run ${command} again`);
    }
    await rollback(plan, readBack);
  }

  let race: VirtNestedError | undefined;
  if (defines !== undefined && defines > 1) {
    race = new VirtNestedError('GUEST_CHANGED',
      `another tool defined ${who} at the same moment as virt-nested: virt-nested's definition is in effect and may have replaced the other one; check the guest (the definition before: ${backup})`);
  }
  if (after.active) {
    // A start copies the persistent definition when it begins but announces itself (Started) only when
    // QEMU runs, so a Started after our Defined does not prove the guest got our definition; a Started
    // before it proves it did not.
    const lastDefine = events === undefined ? -1 : lastIndexOf(events, isDefined);
    const startedBefore = events !== undefined && lastDefine >= 0 && events.slice(0, lastDefine).some(isStarted);
    race ??= new VirtNestedError('GUEST_CHANGED',
      `${plan.startedMessage.replace('{keeps}', startedBefore ? 'keeps' : 'may keep')} until it is shut down and started again (${virshHint(session.uri, 'shutdown', { guest })}, then ${virshHint(session.uri, 'start', { guest })}); a reboot inside the guest is not enough`);
  }
  return { readBack, warnings: [...warnings, ...await recording], race };
}
