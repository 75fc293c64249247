/**
 * The apply workflow: the how-to's "shut down, virsh edit, set <cpu mode=… check='partial'/>", done so
 * that no guest definition can be lost. One virsh session for the whole workflow. Reading and planning
 * ({@link planCpuMode}) change nothing; the define, verify and rollback are `define-safely.ts`.
 */
import { VirtNestedError } from '../errors.js';
import type { CpuCheck } from '../cpu/set-cpu-mode.js';
import type { NestedPolicy } from '../cpu/nested.js';
import { documentOf } from '../domain/document-of.js';
import { parseDomain } from '../domain/parse-domain.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { virshHint } from '../virsh/hint.js';
import { defaultBackupDir } from './backup-dir.js';
import { recordDefined, sha256Hex } from './backup-metadata.js';
import { stageDefinition } from './stage-definition.js';
import { writeBackup } from './backup.js';
import { defineSafely } from './define-safely.js';
import { requireShutOff, type DefineWorkflowOptions, type SafeDefineHooks } from './define-workflow.js';
import { NESTED_SAVE_WARNING, planCpuMode, type ApplyWarning } from './plan-cpu-mode.js';
import { startWatch } from './watch-guest.js';

export type { VirshCommands } from './define-workflow.js';

/** Options of {@link applyCpuMode}. */
export interface ApplyCpuModeOptions extends DefineWorkflowOptions {
  /** Compute and report, change nothing (no backup, no define). */
  readonly dryRun?: boolean;
  readonly check?: CpuCheck;
  /** What to do with vmx/svm `<feature>`s (see `setCpuMode`); default 'keep'. */
  readonly nested?: NestedPolicy;
  /**
   * Checked once, right before the guest is changed (before its backup is written): aborted by then,
   * `applyCpuMode` throws `ABORTED` and nothing is changed; aborted later, the change is finished.
   */
  readonly signal?: AbortSignal;
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

/**
 * The definition without its top-level `<cpu>` (and the blank before it), so that two definitions can be
 * compared outside `<cpu>`; undefined when it is not a domain.
 */
function outsideCpu(xml: string): string | undefined {
  try {
    const doc = documentOf(parseDomain(xml));
    const cpu = doc.root.children.find((child) => child.name === 'cpu');
    if (!cpu) return xml;
    let start = cpu.start;
    while (start > 0 && /\s/.test(xml[start - 1] as string)) start--;
    return xml.slice(0, start) + xml.slice(cpu.end);
  } catch {
    return undefined;
  }
}

/**
 * Gives a shut-off guest `<cpu mode=MODE check='partial'/>`, safely: refuses unless the guest is shut
 * off; reads the persistent definition with `--security-info` (so VNC/SPICE passwords survive);
 * refuses a mode `domcapabilities` says the host cannot run; changes only `<cpu>`; backs the
 * definition up (0600, with its metadata); re-reads state and definition right before defining and
 * refuses if either changed; defines with `--validate`; reads the result back to verify; restores the
 * backup when its own define gave something else, and never touches a definition another tool wrote.
 * A guest that already has what is asked is "nothing to do" whatever its state.
 *
 * @example
 * await withVirsh({ uri: 'qemu:///system' }, (session) => applyCpuMode('web-1', 'host-model', { session }));
 * // { guest: 'web-1', changed: true, backup: '/var/lib/virt-nested/backups/web-1@local-….xml', … }
 */
export async function applyCpuMode(guest: string, mode: CpuMode, options: ApplyCpuModeOptions): Promise<ApplyResult> {
  return applyCpuModeWithHooks(guest, mode, options, {});
}

/**
 * {@link applyCpuMode} with test hooks (internal: not exported from the package).
 *
 * @example
 * await applyCpuModeWithHooks('web-1', 'host-model', { session }, { beforeRecheck: async () => { … } });
 */
export async function applyCpuModeWithHooks(guest: string, mode: CpuMode, options: ApplyCpuModeOptions, hooks: SafeDefineHooks): Promise<ApplyResult> {
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
  requireShutOff(session, guest, plan.state, 'set-cpu',
    (state) => `${who} is ${state}; shut it off first (${virshHint(session.uri, 'shutdown', { guest })}), then run set-cpu again`);
  if (options.dryRun) {
    return { ...base, changed: true, after: next.cpu ?? null, backup: null, warnings: [...warnings, NESTED_SAVE_WARNING] };
  }

  if (options.signal?.aborted) throw abortedBeforeChange(guest);
  const toDefine = hooks.transform ? hooks.transform(edited) : edited;
  const backupDir = options.backupDir ?? defaultBackupDir(options.env ?? process.env);
  const now = options.now ?? (() => new Date());
  const watch = startWatch(session, guest, options.watchEvents);
  try {
    // the backup and the file handed to define need nothing of each other: both are written at once
    const [backupWritten, stagedWritten] = await Promise.allSettled([
      writeBackup(backupDir, guest, session.uri, original, now(), { uuid: domain.uuid ?? null, reason: 'set-cpu' }),
      stageDefinition(backupDir, toDefine),
    ]);
    if (backupWritten.status === 'rejected' || stagedWritten.status === 'rejected') {
      if (stagedWritten.status === 'fulfilled') await stagedWritten.value.remove();
      const reason = backupWritten.status === 'rejected' ? backupWritten.reason : (stagedWritten as PromiseRejectedResult).reason;
      if (reason instanceof VirtNestedError) throw reason;
      throw unwritable(backupWritten.status === 'rejected'
        ? `cannot write the backup of ${who} in ${backupDir}`
        : `cannot write the new definition of ${who} to a file in ${backupDir}`, reason);
    }
    const backup = backupWritten.value;
    const staged = stagedWritten.value;
    const wantedCheck = options.check ?? 'partial';
    const cpuOf = (xml: string) => { try { return parseDomain(xml).cpu; } catch { return undefined; } };
    const originalOutside = outsideCpu(original);
    try {
      const result = await defineSafely({
        session, guest, command: 'set-cpu', original, staged, stagingDir: backupDir, backup, watch, hooks,
        wanted: (readBack) => {
          const cpu = cpuOf(readBack);
          return cpu?.mode === mode && cpu.check === wantedCheck && outsideCpu(readBack) === originalOutside;
        },
        looksOurs: (readBack) => outsideCpu(readBack) === originalOutside,
        changedElsewhere: (readBack) => outsideCpu(readBack) !== originalOutside,
        describeUnwanted: (readBack) => {
          const cpu = cpuOf(readBack);
          return cpu?.mode === mode && cpu.check === wantedCheck
            ? `the definition of ${who} differs outside <cpu> from what was read before`
            : `${who} has cpu mode='${cpu?.mode ?? ''}' check='${cpu?.check ?? ''}', not mode='${mode}' check='${wantedCheck}'`;
        },
        startedMessage: `${who} was started while it was being edited: its new definition (mode='${mode}' check='${wantedCheck}') is in place, but the running guest {keeps} the old CPU`,
        record: (readBack) => recordDefined(backup, sha256Hex(readBack), now()).then((): ApplyWarning[] => [], (): ApplyWarning[] => [
          { code: 'backup-metadata-unwritten', message: `could not record in ${backup}'s metadata what virt-nested defined; restore will ask for --force` },
        ]),
      });
      if (result.race) throw result.race;
      return { ...base, changed: true, after: parseDomain(result.readBack).cpu ?? null, backup, warnings: [...warnings, ...result.warnings, NESTED_SAVE_WARNING] };
    } finally {
      await staged.remove();
    }
  } finally {
    await watch?.close();
  }
}

/**
 * The error of a guest that an abort stopped before anything of it was changed.
 *
 * @example
 * if (signal.aborted) throw abortedBeforeChange('web-1');
 */
export function abortedBeforeChange(guest: string): VirtNestedError {
  return new VirtNestedError('ABORTED', `guest "${guest}" was not changed: the operation was aborted before its edit began`);
}

/** A file that could not be written before anything was defined: one sentence with the system's reason. */
function unwritable(what: string, error: unknown): VirtNestedError {
  const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new VirtNestedError('FILE_UNWRITABLE', `${what} (${reason}); nothing was changed: set VIRT_NESTED_BACKUP_DIR to a directory you can write`, { cause: error });
}
