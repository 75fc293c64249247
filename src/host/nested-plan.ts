/**
 * The pure middle of `enableHost` and `disableHost`: from a {@link HostState} and what is asked, the
 * exact file changes and commands that make `nested` persistently on (or off), and what they leave
 * for modprobe to read. Nothing here reads or writes; `applyPlan` carries a plan out.
 */
import { VirtNestedError } from '../errors.js';
import type { KvmModule } from './cpuinfo.js';
import type { HostFileState, HostState } from './host-state.js';
import {
  effectiveModprobeFiles,
  editablePathFor,
  KERNEL_CMDLINE_PATH,
  KVM_CONF_PATH,
  moduleParameters,
  persistentNestedFrom,
  type ModprobeFile,
  type ModuleParameter,
  type PersistentNested,
} from './modprobe-config.js';
import { disableNestedLines, setNestedOption } from './modprobe-edit.js';
import { kernelBool } from './modprobe-text.js';
import { nestedIsOn } from './kvm-module.js';

/**
 * Which way a plan turns nesting: `on` writes `nested=1` (enable-host), `off` writes `nested=0` (disable-host).
 *
 * @example
 * const direction: NestedDirection = 'off';
 */
export type NestedDirection = 'on' | 'off';

/**
 * One file a plan writes. Paths are as seen on the host.
 *
 * @example
 * const change: FileChange = { path: '/etc/modprobe.d/kvm.conf', target: '/etc/modprobe.d/kvm.conf', before: null, after: 'options kvm_intel nested=1\n', mode: 0o644 };
 */
export interface FileChange {
  readonly path: string;
  /** Where the bytes go: `path`, or the regular file its symlinks lead to (a link stays a link). */
  readonly target: string;
  /** The file's bytes before; `null` when it is created. */
  readonly before: string | null;
  readonly after: string;
  /** Permission bits: the existing file's, else 0644. */
  readonly mode: number;
}

/**
 * A `nested` setting that comes after `kvm.conf` in modprobe's order and would undo it.
 *
 * @example
 * const conflict: ModprobeConflict = { path: '/etc/modprobe.d/zz-local.conf', line: 1, module: 'kvm-intel', name: 'nested', value: '0', text: 'options kvm-intel nested=0', fixable: true, fixed: false };
 */
export interface ModprobeConflict extends ModuleParameter {
  /** It is in a file (the kernel command line is not for us to edit). */
  readonly fixable: boolean;
  /** It is commented out by this run (or would be, in a dry run). */
  readonly fixed: boolean;
}

/**
 * A program a plan runs, as argv.
 *
 * @example
 * const command: PlannedCommand = { file: 'modprobe', args: ['-r', 'kvm_intel'] };
 */
export interface PlannedCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * What became of `reload`. `skipped`: a conflict left would undo it; `planned`: a dry run (or not run yet).
 *
 * @example
 * if (result.reload === 'done') console.log(`nested reads ${result.nested}`);
 */
export type ReloadOutcome = 'not-requested' | 'not-needed' | 'skipped' | 'planned' | 'done';

/**
 * What is asked of a plan.
 *
 * @example
 * const options: NestedPlanOptions = { direction: 'on', reload: true, fixConflicts: false };
 */
export interface NestedPlanOptions {
  readonly direction: NestedDirection;
  readonly reload?: boolean;
  readonly fixConflicts?: boolean;
}

/**
 * The changes and commands that give `module` the asked `nested` at its next load (and now, with reload).
 *
 * @example
 * const plan = planNested(state, 'kvm_amd', { direction: 'off', reload: true });
 * for (const change of plan.changes) console.log(change.path, change.after);
 */
export interface NestedPlan {
  readonly direction: NestedDirection;
  readonly module: KvmModule;
  /** kvm.conf before the plan (`undefined`: it does not exist). */
  readonly kvmConfBefore: string | undefined;
  readonly changes: readonly FileChange[];
  readonly conflicts: readonly ModprobeConflict[];
  readonly commands: readonly PlannedCommand[];
  /** `planned` until `applyPlan` runs the commands. */
  readonly reload: ReloadOutcome;
  /** What modprobe's configuration gives `nested` at the next load, once the changes are written. */
  readonly persistent: PersistentNested;
}

/**
 * Whether the running module's `nested` (as `/sys/module/MODULE/parameters/nested` reads) is as asked.
 *
 * @example
 * nestedReadsAsAsked('off', 'N'); // true
 */
export function nestedReadsAsAsked(direction: NestedDirection, nested: string | undefined): boolean {
  if (nested === undefined) return false;
  return nestedIsOn(nested) === (direction === 'on');
}

/** Whether a value of `nested` given to modprobe is, as the kernel reads it, the one asked for. */
function holds(direction: NestedDirection, value: string | undefined): boolean {
  return kernelBool(value) === (direction === 'on');
}

/** The file list modprobe would read once `path` holds `text`. */
function withFile(files: readonly ModprobeFile[], path: string, text: string): ModprobeFile[] {
  return effectiveModprobeFiles([...files.filter((file) => file.path !== path), { path, text }]);
}

function conflictsIn(settings: readonly ModuleParameter[], direction: NestedDirection): ModuleParameter[] {
  const persistent = persistentNestedFrom(settings);
  if (persistent.verdict === direction) return [];
  let ours = -1;
  settings.forEach((setting, index) => {
    if (setting.path === KVM_CONF_PATH) ours = index;
  });
  return settings.slice(ours + 1).filter((setting) => !holds(direction, setting.value));
}

/** Where a change to `file` goes; a file that is not a regular one (or a link to none) is refused. */
function targetOf(file: HostFileState | undefined, path: string): string {
  if (file === undefined) return path;
  const { target } = file;
  if (target.kind === 'file' || (target.kind === undefined && !target.linked)) return target.path;
  const what = target.linked
    ? `a symlink to ${target.path}, which ${target.kind === undefined ? 'does not exist' : 'is not a regular file'}`
    : 'not a regular file';
  throw new VirtNestedError(
    'FILE_UNWRITABLE',
    `${path} is ${what}, so it was left as it was and nothing was changed; point it at a regular file (or replace it with one) and run again`,
  );
}

/**
 * Plans `nested=1` (direction `on`) or `nested=0` (`off`) for `module`: kvm.conf gets the value (its
 * other lines kept, a shadowed `/lib/modprobe.d/kvm.conf`'s lines carried over), later settings that
 * would undo it are conflicts (commented out with `fixConflicts`), and with `reload` the module is
 * unloaded and loaded again when its `nested` does not read as asked. Throws `FILE_UNWRITABLE` when a
 * file to change is a symlink to something that is not a regular file.
 *
 * @example
 * const plan = planNested(await readHostState(createHostFs('/')), 'kvm_intel', { direction: 'on' });
 */
export function planNested(state: HostState, module: KvmModule, options: NestedPlanOptions): NestedPlan {
  const { direction } = options;
  const value = direction === 'on' ? '1' : '0';
  const command = direction === 'on' ? 'enable-host' : 'disable-host';
  const kvmConfState = state.writable.get(KVM_CONF_PATH);
  const current = kvmConfState?.text;
  // A kvm.conf further down (/lib/modprobe.d) would be hidden by ours: start from its lines, so none is lost.
  const shadowed = state.files.find((file) => file.path !== KVM_CONF_PATH && file.path.endsWith('/kvm.conf'));
  const shadowedMode = shadowed === undefined ? undefined : state.writable.get(shadowed.path)?.mode;
  const kvmConf = setNestedOption(current ?? shadowed?.text, module, value);
  const changes: FileChange[] = [];
  if (kvmConf !== current) {
    const mode = kvmConfState?.mode ?? shadowedMode ?? 0o644;
    changes.push({ path: KVM_CONF_PATH, target: targetOf(kvmConfState, KVM_CONF_PATH), before: current ?? null, after: kvmConf, mode });
  }
  let planned = withFile(state.files, KVM_CONF_PATH, kvmConf);
  const fixConflicts = options.fixConflicts ?? false;
  const conflicts: ModprobeConflict[] = conflictsIn(moduleParameters(planned, state.cmdline, module, 'nested'), direction).map((setting) => {
    const fixable = setting.path !== KERNEL_CMDLINE_PATH;
    return { ...setting, fixable, fixed: fixable && fixConflicts };
  });
  const linesByPath = new Map<string, number[]>();
  for (const conflict of conflicts) if (conflict.fixed) linesByPath.set(conflict.path, [...(linesByPath.get(conflict.path) ?? []), conflict.line]);
  for (const [path, lines] of linesByPath) {
    const source = planned.find((file) => file.path === path)?.text ?? '';
    const target = editablePathFor(path);
    const note = `virt-nested ${command} --fix-conflicts: the next line set nested for ${module} after ${KVM_CONF_PATH}`;
    const after = disableNestedLines(source, module, lines, note);
    const targetState = state.writable.get(target);
    const before = target === path ? source : (targetState?.text ?? null);
    changes.push({ path: target, target: targetOf(targetState, target), before, after, mode: state.writable.get(path)?.mode ?? 0o644 });
    planned = withFile(planned, target, after);
  }
  const persistent = persistentNestedFrom(moduleParameters(planned, state.cmdline, module, 'nested'));

  const loaded = state.moduleState?.loaded ?? false;
  const nestedNow = state.moduleState?.nested;
  let reload: ReloadOutcome = 'not-requested';
  const commands: PlannedCommand[] = [];
  if (options.reload) {
    if (persistent.verdict !== direction) reload = 'skipped';
    else if (loaded ? nestedReadsAsAsked(direction, nestedNow) : direction === 'off') reload = 'not-needed';
    else {
      if (loaded) commands.push({ file: 'modprobe', args: ['-r', module] });
      commands.push({ file: 'modprobe', args: [module] });
      reload = 'planned';
    }
  }
  return { direction, module, kvmConfBefore: current, changes, conflicts, commands, reload, persistent };
}
