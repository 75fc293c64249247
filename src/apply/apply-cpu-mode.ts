/**
 * The apply workflow: the how-to's "shut down, virsh edit, set <cpu mode=… check='partial'/>", done so
 * that no guest definition can be lost. One virsh session for the whole workflow.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestNotShutOffError, VirshError, VirtNestedError } from '../errors.js';
import type { CpuCheck } from '../cpu/set-cpu-mode.js';
import type { NestedPolicy } from '../cpu/nested.js';
import { parseDomain } from '../domain/parse-domain.js';
import type { CpuMode, Domain, DomainCpu } from '../domain/types.js';
import type { VirshSession } from '../virsh/session.js';
import { NESTED_SAVE_WARNING, planCpuMode, readDefinition, readGuest, type ApplyWarning, type GuestState } from './plan-cpu-mode.js';
import { refusedByLibvirt, unfinishedDefine } from './define-failure.js';
import { defaultBackupDir, writeBackup } from './backup.js';
import { defineRefusalReasons } from '../virsh/domain-commands.js';
import { virshHint } from '../virsh/hint.js';

/** What the workflow needs of a virsh session (see `virsh/`). */
export type VirshCommands = Pick<VirshSession, 'uri' | 'run' | 'dumpxml' | 'domcapabilities' | 'define'>;

/** Options of {@link applyCpuMode}. */
export interface ApplyCpuModeOptions {
  /** The open virsh session to use (the caller closes it). */
  readonly session: VirshCommands;
  /** Compute and report, change nothing (no backup, no define). */
  readonly dryRun?: boolean;
  /** Where backups go (default: see `defaultBackupDir`). */
  readonly backupDir?: string;
  readonly check?: CpuCheck;
  /** What to do with vmx/svm `<feature>`s (see `setCpuMode`); default 'keep'. */
  readonly nested?: NestedPolicy;
  readonly env?: NodeJS.ProcessEnv;
  /** The clock, for the backup's time stamp; `new Date()` when not given. */
  readonly now?: () => Date;
  /** Where the new definition is written (in a fresh 0700 directory, removed after) for `virsh define --file`; default `os.tmpdir()`. */
  readonly tmpDir?: string;
  /**
   * A last change to the edited XML before it is defined. For tests and experts: whatever it returns
   * goes through the same define, verification and rollback.
   *
   * @internal
   */
  readonly transform?: (xml: string) => string;
  /**
   * Called between the first read and the compare-and-swap re-read (tests use it to race the workflow).
   *
   * @internal
   */
  readonly beforeRecheck?: () => Promise<void>;
}

/** What `applyCpuMode` did. The shape `set-cpu GUEST --json` prints. */
export interface ApplyResult {
  readonly guest: string;
  readonly uri: string;
  readonly mode: CpuMode;
  /** The definition changed (or, with dryRun, would change). */
  readonly changed: boolean;
  readonly dryRun: boolean;
  readonly before: DomainCpu | null;
  readonly after: DomainCpu | null;
  /** The backup of the definition before the change, or null when nothing was defined. */
  readonly backup: string | null;
  readonly warnings: readonly ApplyWarning[];
}

/** Refuses unless the guest is shut off for good: no managed save image that would resume the old CPU. */
function requireShutOff(session: VirshCommands, guest: string, { state, managedSave }: GuestState, message: (state: string) => string): void {
  if (state !== 'shut off') throw new GuestNotShutOffError(guest, state, message(state));
  if (managedSave) {
    throw new GuestNotShutOffError(guest, state, `guest "${guest}" has a managed save image: its next start resumes the saved memory with the old CPU; discard it (${virshHint(session.uri, 'managedsave-remove', { guest })}, which loses that memory state) or start and shut down the guest, then run set-cpu again`, { reason: 'managed-save' });
  }
}

/** A definition written for `virsh define --file`: a 0600 file in a fresh directory of its own. */
interface StagedDefinition {
  readonly file: string;
  /** Removes the file and its directory; never rejects. */
  remove(): Promise<void>;
}

async function stageDefinition(xml: string, parent: string): Promise<StagedDefinition> {
  const dir = await mkdtemp(join(parent, 'virt-nested-'));
  const remove = () => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  const file = join(dir, 'domain.xml');
  try {
    await writeFile(file, xml, { mode: 0o600 });
  } catch (error) {
    await remove();
    throw error;
  }
  return { file, remove };
}

/** Defines `xml` from a staged file with `--validate`. */
async function define(session: VirshCommands, xml: string, parent: string): Promise<void> {
  const staged = await stageDefinition(xml, parent);
  try {
    await session.define(staged.file, { validate: true });
  } finally {
    await staged.remove();
  }
}

/** The compare-and-swap: the guest must still be shut off and its definition still `original`. */
async function recheck(session: VirshCommands, guest: string, original: string): Promise<void> {
  const who = `guest "${guest}"`;
  const [now, current] = await readGuest(session, guest);
  requireShutOff(session, guest, now, (state) => `${who} became ${state} while it was being edited; nothing was changed`);
  if (current !== original) {
    throw new VirtNestedError('GUEST_CHANGED', `the definition of ${who} changed while it was being edited (another tool?); nothing was changed, run set-cpu again`);
  }
}

/** A file that could not be written before anything was defined: one sentence with the system's reason. */
function unwritable(what: string, error: unknown, advice: string): VirtNestedError {
  const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new VirtNestedError('FILE_UNWRITABLE', `${what} (${reason}); nothing was changed: ${advice}`, { cause: error });
}

/** libvirt's own reason, without virsh's "Failed to define domain from /tmp/…" (our temp file, gone by now). */
function libvirtMessage(error: unknown): string {
  const reasons = error instanceof VirshError
    ? defineRefusalReasons(error.stderr)
    : [];
  return reasons.length > 0 ? reasons.join('; ') : error instanceof Error ? error.message : String(error);
}

/**
 * Gives a shut-off guest `<cpu mode=MODE check='partial'/>`, safely: refuses unless the guest is shut
 * off; reads the persistent definition with `--security-info` (so VNC/SPICE passwords survive);
 * refuses a mode `domcapabilities` says the host cannot run; changes only `<cpu>`; backs the
 * definition up (0600); re-reads state and definition right before defining and refuses if either
 * changed; defines with `--validate`; reads the result back to verify; restores the backup on any
 * failure.
 *
 * @example
 * await withVirsh({ uri: 'qemu:///system' }, (session) => applyCpuMode('web-1', 'host-model', { session }));
 * // { guest: 'web-1', changed: true, backup: '/var/lib/virt-nested/backups/web-1-….xml', … }
 */
export async function applyCpuMode(guest: string, mode: CpuMode, options: ApplyCpuModeOptions): Promise<ApplyResult> {
  const { session } = options;
  const who = `guest "${guest}"`;
  // decided before the state matters: a running guest that already has what is asked is nothing to do
  const plan = await planCpuMode(session, guest, {
    mode, ...(options.check ? { check: options.check } : {}), ...(options.nested ? { nested: options.nested } : {}),
  });
  const { original, domain, next, edited } = plan;
  const warnings = [...plan.warnings];
  const base = { guest, uri: session.uri, mode, dryRun: Boolean(options.dryRun), before: domain.cpu ?? null };
  if (!plan.changed) {
    return { ...base, changed: false, after: domain.cpu ?? null, backup: null, warnings };
  }
  requireShutOff(session, guest, plan.state,
    (state) => `${who} is ${state}; shut it off first (${virshHint(session.uri, 'shutdown', { guest })}), then run set-cpu again`);
  if (options.dryRun) {
    return { ...base, changed: true, after: next.cpu ?? null, backup: null, warnings: [...warnings, NESTED_SAVE_WARNING] };
  }

  const toDefine = options.transform ? options.transform(edited) : edited;
  const parent = options.tmpDir ?? tmpdir();
  const backupDir = options.backupDir ?? defaultBackupDir(options.env ?? process.env);
  // the backup and the file handed to define need nothing of each other: both are written at once
  const [backupWritten, stagedWritten] = await Promise.allSettled([
    writeBackup(backupDir, guest, session.uri, original, (options.now ?? (() => new Date()))()),
    stageDefinition(toDefine, parent),
  ]);
  if (backupWritten.status === 'rejected' || stagedWritten.status === 'rejected') {
    if (stagedWritten.status === 'fulfilled') await stagedWritten.value.remove();
    throw backupWritten.status === 'rejected'
      ? unwritable(`cannot write the backup of ${who} in ${backupDir}`, backupWritten.reason, 'set VIRT_NESTED_BACKUP_DIR to a directory you can write')
      : unwritable(`cannot write the new definition of ${who} to a file in ${parent}`, (stagedWritten as PromiseRejectedResult).reason, 'set TMPDIR to a directory you can write');
  }
  const backup = backupWritten.value;
  const staged = stagedWritten.value;

  // the staged file goes on every outcome; once defined, while the definition is read back
  let removing: Promise<void> | undefined;
  try {
    await options.beforeRecheck?.();
    // compare-and-swap, right before define: the guest may have started, or another tool edited it, since the first read
    await recheck(session, guest, original);
    try {
      await session.define(staged.file, { validate: true });
    } catch (error) {
      // only libvirt's refusal leaves the session able to restore, and is a refusal (exit 1)
      if (!refusedByLibvirt(error)) throw unfinishedDefine(error, who, backup);
      await restore(session, guest, original, backup, parent);
      throw new VirtNestedError('DEFINE_FAILED', `libvirt refused the new definition of ${who}: ${libvirtMessage(error)}; the original is kept (backup: ${backup})`, { cause: error });
    }
    removing = staged.remove();
    let after: Domain;
    try {
      after = parseDomain(await readDefinition(session, guest));
    } catch (error) {
      await restore(session, guest, original, backup, parent);
      throw new VirtNestedError('VERIFY_FAILED', `the definition of ${who} could not be read back after define (${libvirtMessage(error)}); the original was restored from ${backup}`, { cause: error });
    }
    const wantedCheck = options.check ?? 'partial';
    if (after.cpu?.mode !== mode || after.cpu?.check !== wantedCheck) {
      await restore(session, guest, original, backup, parent);
      throw new VirtNestedError('VERIFY_FAILED',
        `after define, ${who} has cpu mode='${after.cpu?.mode ?? ''}' check='${after.cpu?.check ?? ''}', not mode='${mode}' check='${wantedCheck}'; the original was restored from ${backup}`);
    }
    return { ...base, changed: true, after: after.cpu ?? null, backup, warnings: [...warnings, NESTED_SAVE_WARNING] };
  } finally {
    await (removing ?? staged.remove());
  }
}

/** Puts the original definition back when it is not what libvirt now has. */
async function restore(session: VirshCommands, guest: string, original: string, backup: string, parent: string): Promise<void> {
  try {
    if ((await readDefinition(session, guest)) === original) return;
    await define(session, original, parent);
  } catch (error) {
    throw new VirtNestedError('DEFINE_FAILED', `restoring guest "${guest}" failed (${libvirtMessage(error)}); its original definition is in ${backup}: ${virshHint(session.uri, 'define', { args: ['--file', backup] })}`, { cause: error });
  }
}
