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
import { GuestNotShutOffError, VirshError, VirtNestedError } from '../errors.js';
import type { LifecycleEvent, LifecycleWatch } from '../virsh/lifecycle-events.js';
import { defineRefusalReasons } from '../virsh/domain-commands.js';
import { virshHint } from '../virsh/hint.js';
import type { VirshSession } from '../virsh/session.js';
import { stageDefinition, type StagedDefinition } from './backup.js';
import { refusedByLibvirt, unfinishedDefine } from './define-failure.js';
import { readDefinition, readGuest, type ApplyWarning, type GuestState } from './plan-cpu-mode.js';

/** What the workflow needs of a virsh session (see `virsh/`). */
export type VirshCommands = Pick<VirshSession, 'uri' | 'run' | 'dumpxml' | 'domcapabilities' | 'define'>;

/**
 * What every command that defines a guest (set-cpu, restore) is given.
 *
 * @example
 * const options: DefineWorkflowOptions = { session, backupDir: '/var/lib/virt-nested/backups' };
 */
export interface DefineWorkflowOptions {
  /** The open virsh session to use (the caller closes it). */
  readonly session: VirshCommands;
  /** Where backups go, and where the new definition is staged for `virsh define --file` (default: see `defaultBackupDir`). */
  readonly backupDir?: string;
  /** The environment `defaultBackupDir` reads (`VIRT_NESTED_BACKUP_DIR`, `XDG_STATE_HOME`); `process.env` when not given. */
  readonly env?: NodeJS.ProcessEnv;
  /** The clock, for the backup's time stamp; `new Date()` when not given. */
  readonly now?: () => Date;
  /**
   * Watch libvirt's lifecycle events of the guest during the define (default true), to find a define
   * or start by another tool that the compare-and-swap cannot see. Off, such races are found only from
   * what the definition holds afterwards.
   */
  readonly watchEvents?: boolean;
}

/**
 * Test hooks: not part of the public options. Tests pass them to the internal entry points
 * (`applyCpuModeWithHooks`, `restoreDefinitionWithHooks`) to race the workflow at fixed points.
 */
export interface SafeDefineHooks {
  /** A last change to the XML before it is defined; it goes through the same define, verify and rollback. */
  readonly transform?: (xml: string) => string;
  /** Called between the first read and the compare-and-swap re-read. */
  readonly beforeRecheck?: () => Promise<void>;
  /** Called after the compare-and-swap re-read passed, right before our define. */
  readonly beforeDefine?: () => Promise<void>;
  /** Called right after our define returned, before the read-back. */
  readonly afterDefine?: () => Promise<void>;
}

/**
 * Refuses unless the guest is shut off for good: no managed save image that would resume the old
 * definition.
 *
 * @example
 * requireShutOff(session, 'web-1', state, 'set-cpu', (s) => `guest "web-1" is ${s}`);
 */
export function requireShutOff(session: VirshCommands, guest: string, { state, active, managedSave }: GuestState, command: string, message: (state: string) => string): void {
  if (state !== 'shut off') throw new GuestNotShutOffError(guest, state, message(state));
  if (active) throw new GuestNotShutOffError(guest, 'starting', message('starting'));
  if (managedSave) {
    throw new GuestNotShutOffError(guest, state,
      `guest "${guest}" has a managed save image: its next start resumes the saved memory with the old ${command === 'set-cpu' ? 'CPU' : 'definition'}; discard it (${virshHint(session.uri, 'managedsave-remove', { guest })}, which loses that memory state) or start and shut down the guest, then run ${command} again`,
      { reason: 'managed-save' });
  }
}

/**
 * libvirt's own reason, without virsh's "Failed to define domain from …" (our staged file, gone by now).
 *
 * @example
 * libvirtMessage(error) // "XML error: Invalid value for attribute 'unit' …"
 */
export function libvirtMessage(error: unknown): string {
  const reasons = error instanceof VirshError ? defineRefusalReasons(error.stderr) : [];
  return reasons.length > 0 ? reasons.join('; ') : error instanceof Error ? error.message : String(error);
}

/** What {@link defineSafely} is asked to do. */
export interface SafeDefine {
  readonly session: VirshCommands;
  readonly guest: string;
  /** The command, for advice ("run set-cpu again"). */
  readonly command: 'set-cpu' | 'restore';
  /** The definition as first read: the compare-and-swap expects it unchanged, and a rollback restores it. */
  readonly original: string;
  /** The new definition, already staged for `virsh define --file`. */
  readonly staged: StagedDefinition;
  /** The directory rollback definitions are staged in (the backup directory). */
  readonly stagingDir: string;
  /** The backup of `original`. */
  readonly backup: string;
  /** Lifecycle events of the guest, watched since before the re-read; undefined when they cannot be. */
  readonly watch: LifecycleWatch | undefined;
  /** The read-back is the definition that was asked for. */
  wanted(readBack: string): boolean;
  /** Without events: whether a read-back that is not wanted was still written by our define (libvirt changed it). */
  looksOurs(readBack: string): boolean;
  /**
   * Whether a read-back differs where our define changes nothing, so another tool wrote it whatever the
   * events say (its event may still be on its way on a loaded host). Default: never.
   */
  changedElsewhere?(readBack: string): boolean;
  /** Why a read-back of our own define is not what was asked, for the message. */
  describeUnwanted(readBack: string): string;
  /** The start of the message for a guest started during the edit; `{keeps}` stands for "keeps" or "may keep". */
  readonly startedMessage: string;
  readonly hooks: SafeDefineHooks;
}

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
  const reading = readGuest(session, guest);
  reading.catch(() => undefined);
  if (watch !== undefined && !(await settle(watch, 1))) {
    warnings.push({
      code: 'lifecycle-events-unavailable',
      message: `libvirt sent no lifecycle event for virt-nested's own define of ${who} at ${session.uri}; a define or start by another tool is found only from what the definition holds afterwards`,
    });
    watch = undefined;
  }
  let readBack: string;
  let after: GuestState;
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
    throw new VirtNestedError('VERIFY_FAILED', `after define, ${plan.describeUnwanted(readBack)}; the original was restored from ${backup}`);
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
  return { readBack, warnings, race };
}

/**
 * Puts `original` back after our own define gave a definition that is not what was asked, but only while
 * the definition is still the one our define made.
 */
async function rollback(plan: SafeDefine, ours: string): Promise<void> {
  const { session, guest, original, backup } = plan;
  let staged: StagedDefinition | undefined;
  try {
    staged = await stageDefinition(plan.stagingDir, original);
    if ((await readDefinition(session, guest)) !== ours) {
      throw new VirtNestedError('GUEST_CHANGED',
        `after define, ${plan.describeUnwanted(ours)}, and another tool has changed it since: it is left as that tool defined it (the definition before: ${backup})`);
    }
    await session.define(staged.file, { validate: true });
  } catch (error) {
    if (error instanceof VirtNestedError && error.code === 'GUEST_CHANGED') throw error;
    throw new VirtNestedError('DEFINE_FAILED', `restoring guest "${guest}" failed (${libvirtMessage(error)}); its original definition is in ${backup}: ${virshHint(session.uri, 'define', { args: ['--file', backup] })}`, { cause: error });
  } finally {
    await staged?.remove();
  }
}
