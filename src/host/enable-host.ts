/**
 * `enableHost`: the seed's "Enable nested virtualization" steps. Writes `options MODULE nested=1` to
 * `/etc/modprobe.d/kvm.conf` (atomically, only when the bytes change), reports `nested=0` lines
 * that would override it (and comments them out when asked), and reloads the module when asked,
 * only while libvirt runs no guest. A refused or dry run changes nothing.
 */
import * as fsPromises from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { VirshError, VirtNestedError } from '../errors.js';
import { missingFlagFix, readCpuinfo } from './check-host.js';
import { isX86, kvmModuleFor, virtualizationFlagFor, type KvmModule } from './cpuinfo.js';
import { DEFAULT_HOST_URI, lastMessage } from './domcapabilities.js';
import { nestedIsOn, readKvmModuleState } from './kvm-module.js';
import {
  describeSetting,
  KERNEL_CMDLINE_PATH,
  kernelBool,
  KVM_CONF_PATH,
  moduleParameters,
  parseKernelCmdline,
  persistentNestedFrom,
  readModprobeFiles,
  type ModprobeFile,
  type ModuleParameter,
  type PersistentNested,
} from './modprobe-config.js';
import { disableNestedLines, setNestedOption } from './modprobe-edit.js';
import type { Check } from './report.js';
import { pathInRoot, readTextIfExists } from './root-files.js';
import { writeFileAtomic, type AtomicWriteFs } from '../fs/atomic-write.js';
import { virshHint } from '../virsh/hint.js';
import type { CommandRunner } from './run-command.js';

/**
 * What `enableHost` needs from the world, and what it is asked to do.
 *
 * @example
 * const options: EnableHostOptions = { root: '/', run: runCommand, dryRun: true, reload: true };
 */
export interface EnableHostOptions {
  /** The directory standing for `/`. */
  readonly root: string;
  /** Runs `virsh list` and `modprobe`. */
  readonly run: CommandRunner;
  /** Plan only: return the exact changes and commands, change nothing (root not needed). */
  readonly dryRun?: boolean;
  /** Also reload the module now, when no guest is running. */
  readonly reload?: boolean;
  /** Comment out `nested=0` lines of other modprobe.d files that would override `kvm.conf`. */
  readonly fixConflicts?: boolean;
  /** The libvirt URI asked for running guests; `qemu:///system` when not given. */
  readonly uri?: string;
  /** The caller's user id; `process.getuid()` when not given. Anything but 0 is refused. */
  readonly uid?: number;
  /**
   * The file system written through; `node:fs/promises` when not given. For tests, which inject failures.
   *
   * @internal
   */
  readonly fs?: AtomicWriteFs;
}

/**
 * One file `enableHost` writes (or, in a dry run, would write). Paths are as seen on the host.
 *
 * @example
 * const change: FileChange = { path: '/etc/modprobe.d/kvm.conf', before: null, after: 'options kvm_intel nested=1\n', mode: 0o644 };
 */
export interface FileChange {
  readonly path: string;
  /** The file's bytes before; `null` when it is created. */
  readonly before: string | null;
  readonly after: string;
  /** Permission bits: the existing file's, else 0644. */
  readonly mode: number;
}

/**
 * A `nested` setting that comes after `kvm.conf` in modprobe's order and would turn nested off.
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
 * A program `enableHost` runs (or would run), as argv.
 *
 * @example
 * const command: PlannedCommand = { file: 'modprobe', args: ['-r', 'kvm_intel'] };
 */
export interface PlannedCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * What became of `reload`. `skipped`: a conflict left would undo it; `planned`: a dry run.
 *
 * @example
 * if (result.reload === 'done') console.log(`nested reads ${result.nested}`);
 */
export type ReloadOutcome = 'not-requested' | 'not-needed' | 'skipped' | 'planned' | 'done';

/**
 * The items of an `enableHost` result, in the order they are listed: `kvm-conf`, one `conflict`
 * per overriding setting, `reload`.
 *
 * @example
 * const left = result.checks.filter((check) => check.id === ('conflict' satisfies EnableHostCheckId) && check.status === 'problem');
 */
export type EnableHostCheckId = 'kvm-conf' | 'conflict' | 'reload';

/**
 * What `enableHost` did, or in a dry run would do.
 *
 * @example
 * const result = await enableHost({ root: '/', run: runCommand, dryRun: true });
 * for (const change of result.changes) console.log(change.path, change.after);
 */
export interface EnableHostResult {
  /** `nested=1` holds at the next load of the module (and now, when it was reloaded). */
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly module: KvmModule;
  /** `/etc/modprobe.d/kvm.conf`. */
  readonly path: string;
  readonly changes: readonly FileChange[];
  readonly conflicts: readonly ModprobeConflict[];
  /** The reload commands, run or planned, in order. */
  readonly commands: readonly PlannedCommand[];
  readonly reload: ReloadOutcome;
  /** What modprobe's configuration gives `nested` at the next load, after the changes. */
  readonly persistent: PersistentNested;
  /** What `/sys/module/MODULE/parameters/nested` reads at the end. */
  readonly nested: string | undefined;
  readonly checks: ReadonlyArray<Check<EnableHostCheckId>>;
}

/**
 * The refusal to reload the KVM module while guests run on it; `guests` names those libvirt
 * reported (empty when the kernel said the module is in use by something libvirt does not know).
 *
 * @example
 * catch (e) { if (e instanceof GuestsRunningError) console.error(`shut down ${e.guests.join(', ')} first`); }
 */
export class GuestsRunningError extends VirtNestedError {
  readonly guests: readonly string[];
  readonly uri: string;
  constructor(guests: readonly string[], uri: string, message: string) {
    super('GUESTS_RUNNING', message);
    this.name = 'GuestsRunningError';
    this.guests = guests;
    this.uri = uri;
  }
}

/**
 * Asks libvirt at `uri` for the names of its active guests: running, paused, or in any other state
 * but shut off (`virsh list --name`), since every one of them holds the KVM module. With no virsh at
 * all there are no libvirt guests; a libvirt that cannot be asked is an error, since then nothing is known.
 *
 * @example
 * const names = await listRunningGuests(runCommand, 'qemu:///system'); // ['web-1']
 */
export async function listRunningGuests(run: CommandRunner, uri: string): Promise<string[]> {
  // Not `--state-running`: a paused guest still holds /dev/kvm, and `modprobe -r` would fail on it.
  const command = ['virsh', '-c', uri, 'list', '--name'];
  let result;
  try {
    result = await run('virsh', command.slice(1));
  } catch (error) {
    result = { stdout: '', stderr: error instanceof Error ? error.message : String(error), exitCode: 1 };
  }
  if (result.exitCode === 127) return [];
  if (result.exitCode !== 0) {
    throw new VirshError(
      'LIBVIRT_UNREACHABLE',
      `cannot ask libvirt at ${uri} which guests are running (${lastMessage(result.stderr) || `virsh exited with ${result.exitCode}`}), so nothing was changed; start libvirtd or run without --reload`,
      { command, exitCode: result.exitCode, stderr: result.stderr },
    );
  }
  return result.stdout.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line !== '');
}

function guestsRunningMessage(guests: readonly string[], uri: string, module: KvmModule): string {
  const names = guests.map((guest) => JSON.stringify(guest)).join(', ');
  const shutdown = virshHint(uri, 'shutdown', { guest: guests[0] ?? '' });
  return guests.length === 1
    ? `guest ${names} is running on ${uri}, so ${module} was not reloaded and nothing was changed; shut it down first (${shutdown}) or run without --reload`
    : `guests ${names} are running on ${uri}, so ${module} was not reloaded and nothing was changed; shut them down first or run without --reload`;
}

async function modeOf(root: string, path: string): Promise<number | undefined> {
  try {
    return (await stat(pathInRoot(root, path))).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** The file list modprobe would read once `path` holds `text` (a name in /etc hides the same name below). */
function withFile(files: readonly ModprobeFile[], path: string, text: string): ModprobeFile[] {
  const name = basename(path);
  const others = files.filter((file) => basename(file.path) !== name);
  const at = others.findIndex((file) => basename(file.path) > name);
  const result = [...others];
  result.splice(at < 0 ? result.length : at, 0, { path, text });
  return result;
}

/** Files below /etc belong to packages, which would restore them: an /etc file of the same name hides them instead. */
function editablePathFor(path: string): string {
  return path.startsWith('/usr/lib/modprobe.d/') || path.startsWith('/lib/modprobe.d/') ? `/etc/modprobe.d/${basename(path)}` : path;
}

function conflictsIn(settings: readonly ModuleParameter[]): ModuleParameter[] {
  if (persistentNestedFrom(settings).verdict === 'on') return [];
  let ours = -1;
  settings.forEach((setting, index) => {
    if (setting.path === KVM_CONF_PATH) ours = index;
  });
  return settings.slice(ours + 1).filter((setting) => kernelBool(setting.value) !== true);
}

function given(setting: ModuleParameter): string {
  return setting.value === undefined ? setting.name : `${setting.name}=${setting.value}`;
}

function conflictCheck(conflict: ModprobeConflict, module: KvmModule, dryRun: boolean): Check<EnableHostCheckId> {
  const id = 'conflict';
  const where = describeSetting(conflict);
  if (!conflict.fixable) {
    return {
      id,
      status: 'problem',
      message: `the kernel command line sets ${conflict.text}, which overrides every modprobe.d file`,
      fix: `remove ${conflict.text} from the kernel command line and reboot`,
    };
  }
  if (!conflict.fixed) {
    return {
      id,
      status: 'problem',
      message: `${where} sets ${given(conflict)} for ${module} after ${KVM_CONF_PATH}, so nested stays off at the next load`,
      fix: 'run: virt-nested enable-host --fix-conflicts',
    };
  }
  const target = editablePathFor(conflict.path);
  const what = `${given(conflict)} for ${module} in ${where}`;
  if (dryRun) {
    return target === conflict.path
      ? { id, status: 'not-applicable', message: `would comment out ${what}, which overrides ${KVM_CONF_PATH}` }
      : { id, status: 'not-applicable', message: `would hide ${what}, which overrides ${KVM_CONF_PATH}, behind ${target}, a copy without it` };
  }
  return target === conflict.path
    ? { id, status: 'ok', message: `commented out ${what}, which overrode ${KVM_CONF_PATH}` }
    : { id, status: 'ok', message: `hid ${what}, which overrode ${KVM_CONF_PATH}, behind ${target}, a copy without it` };
}

function verdictFix(persistent: PersistentNested): string {
  return persistent.source?.path === KERNEL_CMDLINE_PATH
    ? `remove ${persistent.source.text} from the kernel command line and reboot`
    : 'run: virt-nested enable-host --fix-conflicts';
}

/**
 * Enables nested virtualization on the host under `root`, persistently and (with `reload`) now.
 * Throws `NOT_PERMITTED` when not root (except for a dry run), `HOST_UNSUPPORTED` off x86 or without
 * the vmx/svm flag, {@link GuestsRunningError} when a reload is due while guests run, and
 * `FILE_UNWRITABLE` when a file cannot be written: then the files this run wrote before it are put
 * back, so that nothing is changed. A reload that fails after the files were written leaves them
 * written (nested=1 then applies at the module's next load), and its error names them.
 *
 * @example
 * const plan = await enableHost({ root: '/', run: runCommand, dryRun: true, reload: true });
 * const result = await enableHost({ root: '/', run: runCommand, reload: true });
 */
export async function enableHost(options: EnableHostOptions): Promise<EnableHostResult> {
  const { root, run } = options;
  const dryRun = options.dryRun ?? false;
  const uri = options.uri ?? DEFAULT_HOST_URI;
  const uid = options.uid ?? process.getuid?.();
  if (!dryRun && uid !== undefined && uid !== 0) {
    throw new VirtNestedError('NOT_PERMITTED', `enable-host writes ${KVM_CONF_PATH} and reloads kernel modules, which needs root; run it with sudo, or with --dry-run to see the plan`);
  }

  const cpu = await readCpuinfo(root);
  if (!isX86(cpu.arch)) {
    throw new VirtNestedError('HOST_UNSUPPORTED', `nested virtualization is only supported on x86, and this CPU is ${cpu.arch}, so enable-host changed nothing`);
  }
  const module = kvmModuleFor(cpu);
  if (module === undefined) {
    throw new VirtNestedError('HOST_UNSUPPORTED', `the CPU (vendor ${cpu.vendor ?? 'unknown'}) has neither vmx nor svm, so no KVM module fits it and enable-host changed nothing`);
  }
  const flag = virtualizationFlagFor(module);
  if (!cpu.flags.includes(flag)) {
    throw new VirtNestedError('HOST_UNSUPPORTED', `the CPU has no ${flag} flag, so ${module} cannot run guests and enable-host changed nothing; ${missingFlagFix(flag, cpu.flags.includes('hypervisor'))}`);
  }

  // Plan the files.
  const files = await readModprobeFiles(root);
  const cmdline = parseKernelCmdline((await readTextIfExists(root, KERNEL_CMDLINE_PATH)) ?? '');
  const current = await readTextIfExists(root, KVM_CONF_PATH);
  // A kvm.conf further down (/lib/modprobe.d) would be hidden by ours: start from its lines, so none is lost.
  const shadowed = files.find((file) => basename(file.path) === 'kvm.conf' && file.path !== KVM_CONF_PATH);
  const kvmConf = setNestedOption(current ?? shadowed?.text, module);
  const changes: FileChange[] = [];
  if (kvmConf !== current) {
    const mode = (await modeOf(root, KVM_CONF_PATH)) ?? (shadowed ? await modeOf(root, shadowed.path) : undefined) ?? 0o644;
    changes.push({ path: KVM_CONF_PATH, before: current ?? null, after: kvmConf, mode });
  }
  let planned = withFile(files, KVM_CONF_PATH, kvmConf);
  const found = conflictsIn(moduleParameters(planned, cmdline, module, 'nested'));

  const fixConflicts = options.fixConflicts ?? false;
  const conflicts: ModprobeConflict[] = found.map((setting) => {
    const fixable = setting.path !== KERNEL_CMDLINE_PATH;
    return { ...setting, fixable, fixed: fixable && fixConflicts };
  });
  if (fixConflicts) {
    const byPath = new Map<string, number[]>();
    for (const conflict of conflicts) if (conflict.fixed) byPath.set(conflict.path, [...(byPath.get(conflict.path) ?? []), conflict.line]);
    for (const [path, lines] of byPath) {
      const source = planned.find((file) => file.path === path)?.text ?? '';
      const target = editablePathFor(path);
      const note = `virt-nested enable-host --fix-conflicts: the next line set nested for ${module} after ${KVM_CONF_PATH}`;
      const after = disableNestedLines(source, module, lines, note);
      const before = target === path ? source : ((await readTextIfExists(root, target)) ?? null);
      changes.push({ path: target, before, after, mode: (await modeOf(root, path)) ?? 0o644 });
      planned = withFile(planned, target, after);
    }
  }
  const persistent = persistentNestedFrom(moduleParameters(planned, cmdline, module, 'nested'));

  // Plan the reload.
  const state = await readKvmModuleState(root, module);
  let reload: ReloadOutcome = 'not-requested';
  const commands: PlannedCommand[] = [];
  if (options.reload) {
    if (persistent.verdict !== 'on') reload = 'skipped';
    else if (state.loaded && state.nestedEnabled) reload = 'not-needed';
    else {
      if (state.loaded) commands.push({ file: 'modprobe', args: ['-r', module] });
      commands.push({ file: 'modprobe', args: [module] });
      const guests = await listRunningGuests(run, uri);
      if (guests.length > 0) throw new GuestsRunningError(guests, uri, guestsRunningMessage(guests, uri, module));
      reload = dryRun ? 'planned' : 'done';
    }
  }

  if (!dryRun) {
    await writeChanges(root, changes, options.fs);
    const written = changes.map((change) => change.path);
    for (const command of commands) await runModprobe(run, command, module, uri, written);
  }
  const nested = reload === 'done' ? (await readKvmModuleState(root, module)).nested : state.nested;
  const nestedNow = nestedIsOn(nested);

  const checks: Array<Check<EnableHostCheckId>> = [];
  if (changes.some((change) => change.path === KVM_CONF_PATH)) {
    const verb = current === undefined ? 'create' : 'update';
    checks.push(dryRun
      ? { id: 'kvm-conf', status: 'not-applicable', message: `would ${verb} ${KVM_CONF_PATH} to set nested=1 for ${module}` }
      : { id: 'kvm-conf', status: 'ok', message: `${verb}d ${KVM_CONF_PATH}, which sets nested=1 for ${module}` });
  } else {
    checks.push({ id: 'kvm-conf', status: 'ok', message: `${KVM_CONF_PATH} already turns nested on for ${module}` });
  }
  for (const conflict of conflicts) checks.push(conflictCheck(conflict, module, dryRun));
  checks.push(reloadCheck(reload, module, state.loaded, nested, persistent, commands));

  const ok = persistent.verdict === 'on' && reload !== 'skipped' && (reload !== 'done' || nestedNow);
  return { ok, dryRun, module, path: KVM_CONF_PATH, changes, conflicts, commands, reload, persistent, nested, checks };
}

function reloadCheck(
  reload: ReloadOutcome,
  module: KvmModule,
  loaded: boolean,
  nested: string | undefined,
  persistent: PersistentNested,
  commands: readonly PlannedCommand[],
): Check<EnableHostCheckId> {
  const id = 'reload';
  const nestedNow = nestedIsOn(nested);
  switch (reload) {
    case 'not-needed':
      return { id, status: 'ok', message: `${module}'s nested parameter already reads ${nested ?? ''}, so no reload was needed` };
    case 'skipped':
      return {
        id,
        status: 'problem',
        message: `${module} was not reloaded, because ${persistent.source ? describeSetting(persistent.source) : 'another setting'} would still turn nested off`,
        fix: verdictFix(persistent),
      };
    case 'planned':
      return { id, status: 'not-applicable', message: `would reload ${module}: ${commands.map((c) => [c.file, ...c.args].join(' ')).join(', then ')}` };
    case 'done':
      return nestedNow
        ? { id, status: 'ok', message: `reloaded ${module}, and its nested parameter reads ${nested ?? ''}` }
        : { id, status: 'problem', message: `reloaded ${module}, but its nested parameter reads ${nested ?? 'nothing'}`, fix: `look for why in the kernel log: dmesg | grep -i kvm` };
    default:
      if (loaded && nestedNow) return { id, status: 'ok', message: `${module}'s nested parameter already reads ${nested ?? ''}` };
      return {
        id,
        status: 'not-applicable',
        message: loaded ? `${module} was not reloaded, so nested=1 applies at its next load` : `${module} is not loaded, so nested=1 applies when it loads`,
        fix: 'run: virt-nested enable-host --reload',
      };
  }
}

/** `a`, `a and b`, `a, b and c`. */
function listOf(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Writes every change, or none: when one cannot be written, those written before it get their old
 * bytes back (or are removed again, when they did not exist), and the error says so.
 */
async function writeChanges(root: string, changes: readonly FileChange[], fs: AtomicWriteFs | undefined): Promise<void> {
  const through = fs ? { fs } : {};
  const written: FileChange[] = [];
  for (const change of changes) {
    try {
      await writeFileAtomic(pathInRoot(root, change.path), change.after, { mode: change.mode, createDirectory: true, ...through });
    } catch (error) {
      const restored: string[] = [];
      const kept: string[] = [];
      for (const done of [...written].reverse()) {
        try {
          await putBack(root, done, fs);
          restored.unshift(done.path);
        } catch (undoError) {
          kept.unshift(`${done.path} (${reasonOf(undoError)})`);
        }
      }
      const cannot = `cannot write ${change.path} (${reasonOf(error)})`;
      const then = `make ${dirname(change.path)} writable and run enable-host again`;
      let message: string;
      if (kept.length > 0) {
        message = `${cannot}, and putting back what was written before it failed for ${listOf(kept)}, which ${kept.length === 1 ? 'keeps its' : 'keep their'} new bytes; ${then}`;
      } else if (restored.length > 0) {
        message = `${cannot}, so nothing was changed: ${listOf(restored)}, written before it, ${restored.length === 1 ? 'was put back as it was' : 'were put back as they were'}; ${then}`;
      } else {
        message = `${cannot}, so it was left as it was; ${then}`;
      }
      throw new VirtNestedError('FILE_UNWRITABLE', message, { cause: error });
    }
    written.push(change);
  }
}

async function putBack(root: string, change: FileChange, fs: AtomicWriteFs | undefined): Promise<void> {
  const path = pathInRoot(root, change.path);
  if (change.before !== null) {
    await writeFileAtomic(path, change.before, { mode: change.mode, ...(fs ? { fs } : {}) });
    return;
  }
  try {
    await (fs ?? (fsPromises as unknown as AtomicWriteFs)).unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** `, but FILE was already written and stays, …` for an error after `written` were written; empty when none was. */
function writtenNote(written: readonly string[]): string {
  if (written.length === 0) return '';
  const verb = written.length === 1 ? 'was already written and stays' : 'were already written and stay';
  return `, but ${listOf(written)} ${verb}, so nested=1 applies at its next load`;
}

async function runModprobe(run: CommandRunner, command: PlannedCommand, module: KvmModule, uri: string, written: readonly string[]): Promise<void> {
  const result = await run(command.file, command.args, { timeout: 120_000 });
  if (result.exitCode === 0) return;
  const why = lastMessage(result.stderr) || `exit code ${result.exitCode}`;
  const note = writtenNote(written);
  if (command.args[0] === '-r') {
    if (/in use/i.test(result.stderr)) {
      throw new GuestsRunningError([], uri, `${module} is in use, probably by a guest libvirt does not know, so it was not reloaded (${why})${note}; stop that guest and run enable-host --reload again`);
    }
    throw new VirtNestedError('HOST_UNSUPPORTED', `modprobe -r ${module} failed (${why}), so ${module} was not reloaded${note || `; ${KVM_CONF_PATH} sets nested=1 for its next load`}`);
  }
  throw new VirtNestedError('HOST_UNSUPPORTED', `modprobe ${module} failed (${why}), so ${module} is not loaded now${note}; load it by hand with: modprobe ${module}`);
}
