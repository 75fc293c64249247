/**
 * The flow `enableHost` and `disableHost` share: read the machine, refuse what must be refused,
 * plan, apply (unless a dry run), read the module again, report. Each step is its own module; this
 * one only puts them in order.
 */
import { VirtNestedError } from '../errors.js';
import type { AtomicWriteFs } from '../fs/atomic-write.js';
import { applyPlan } from './apply-plan.js';
import { missingFlagFix } from './check-host.js';
import { isX86, virtualizationFlagFor, type KvmModule } from './cpuinfo.js';
import { DEFAULT_HOST_URI } from './domcapabilities.js';
import { createHostFs } from './host-fs.js';
import { readHostState, type HostState } from './host-state.js';
import { kernelAdvisoryCheck, vulnerableKernelRefusal } from './kernel-advisory-check.js';
import { judgeKernel, type KernelVersion } from './kernel-advisory.js';
import { readKvmModuleState } from './kvm-module.js';
import { KVM_CONF_PATH, persistentNestedFrom, type PersistentNested } from './modprobe-config.js';
import { listRunningGuests } from '../virsh/host-commands.js';
import { inUseRefusal } from './module-users.js';
import { changeChecks, type HostChangeCheckId } from './nested-checks.js';
import { nestedReadsAsAsked, planNested, type FileChange, type ModprobeConflict, type NestedDirection, type PlannedCommand, type ReloadOutcome } from './nested-plan.js';
import type { Check } from './report.js';
import type { CommandRunner } from './run-command.js';

/**
 * What `enableHost` and `disableHost` need from the world, and what they are asked to do.
 *
 * @example
 * const options: HostChangeOptions = { root: '/', run: runCommand, dryRun: true, reload: true };
 */
export interface HostChangeOptions {
  /** The directory standing for `/` (a mounted image or chroot; `/` for this machine). */
  readonly root: string;
  /** Runs `modprobe`, and `virsh list` only to name the guests that hold the module. */
  readonly run: CommandRunner;
  /** Plan only: return the exact changes and commands, change nothing (root not needed). */
  readonly dryRun?: boolean;
  /** Also reload the module now, unless something holds it (the kernel's use count). */
  readonly reload?: boolean;
  /** Comment out settings of other modprobe.d files that would undo kvm.conf. */
  readonly fixConflicts?: boolean;
  /** The libvirt URI asked to name guests; `qemu:///system` when not given. */
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
 * What `enableHost`/`disableHost` did, or in a dry run would do. Paths are as seen on the host.
 *
 * @example
 * const result = await disableHost({ root: '/', run: runCommand, dryRun: true });
 * for (const change of result.changes) console.log(change.path, change.after);
 */
export interface HostChangeResult {
  /** The asked `nested` holds at the next load of the module (and now, when it was reloaded). */
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
  /** The running kernel, as the advisory check judged it (enable-host only). */
  readonly kernel?: KernelVersion;
  readonly checks: ReadonlyArray<Check<HostChangeCheckId>>;
}

/**
 * A refusal that comes with the report the refused run gives (`--json` prints it): a vulnerable
 * kernel (`KERNEL_VULNERABLE`) or a module in use (`GUESTS_RUNNING`).
 *
 * @example
 * catch (e) { if (e instanceof VirtNestedError && 'report' in e) console.log(JSON.stringify(e.report)); }
 */
export interface RefusalReport {
  readonly report: HostChangeResult;
}

function attach<E extends Error>(error: E, report: HostChangeResult): E & RefusalReport {
  return Object.assign(error, { report });
}

function refusedReport(state: HostState, module: KvmModule, dryRun: boolean, checks: ReadonlyArray<Check<HostChangeCheckId>>, kernel?: KernelVersion): HostChangeResult {
  return {
    ok: false, dryRun, module, path: KVM_CONF_PATH, changes: [], conflicts: [], commands: [], reload: 'not-requested',
    persistent: persistentNestedFrom([]), nested: state.moduleState?.nested, ...(kernel ? { kernel } : {}), checks,
  };
}

/**
 * Makes `nested` of the host's KVM module persistently on (`direction` `on`) or off, and now with
 * `reload`. See `enableHost` and `disableHost`.
 *
 * @example
 * const result = await setHostNested({ root: '/', run: runCommand, reload: true }, 'off');
 */
export async function setHostNested(options: HostChangeOptions, direction: NestedDirection, allowVulnerableKernel = false): Promise<HostChangeResult> {
  const command = direction === 'on' ? 'enable-host' : 'disable-host';
  const dryRun = options.dryRun ?? false;
  const uri = options.uri ?? DEFAULT_HOST_URI;
  const uid = options.uid ?? process.getuid?.();
  if (!dryRun && uid !== undefined && uid !== 0) {
    throw new VirtNestedError('NOT_PERMITTED', `${command} writes ${KVM_CONF_PATH} and reloads kernel modules, which needs root; run it with sudo, or with --dry-run to see the plan`);
  }
  const fs = createHostFs(options.root, options.fs);
  const state = await readHostState(fs);
  const { cpu, module } = state;
  if (!isX86(cpu.arch)) {
    throw new VirtNestedError('HOST_UNSUPPORTED', `nested virtualization is only supported on x86, and this CPU is ${cpu.arch}, so ${command} changed nothing`);
  }
  if (module === undefined) {
    throw new VirtNestedError('HOST_UNSUPPORTED', `the CPU (vendor ${cpu.vendor ?? 'unknown'}) has neither vmx nor svm, so no KVM module fits it and ${command} changed nothing`);
  }
  const flag = virtualizationFlagFor(module);
  // Turning nesting off is safe whatever the CPU has; turning it on needs the flag.
  if (direction === 'on' && !cpu.flags.includes(flag)) {
    throw new VirtNestedError('HOST_UNSUPPORTED', `the CPU has no ${flag} flag, so ${module} cannot run guests and enable-host changed nothing; ${missingFlagFix(flag, cpu.flags.includes('hypervisor'))}`);
  }

  const kernelChecks: Array<Check<HostChangeCheckId>> = [];
  let kernel: KernelVersion | undefined;
  if (direction === 'on') {
    const judgement = judgeKernel(state.kernel);
    kernel = judgement.kernel;
    const check = kernelAdvisoryCheck<HostChangeCheckId>('kernel-advisory', judgement, true);
    if (judgement.verdict === 'vulnerable' && !allowVulnerableKernel) {
      const report = refusedReport(state, module, dryRun, [check], kernel);
      throw attach(new VirtNestedError('KERNEL_VULNERABLE', vulnerableKernelRefusal(judgement)), report);
    }
    kernelChecks.push(judgement.verdict === 'vulnerable'
      ? { ...check, message: `${check.message}; enabled anyway, as --allow-vulnerable-kernel asks` }
      : check);
  }

  const plan = planNested(state, module, { direction, reload: options.reload ?? false, fixConflicts: options.fixConflicts ?? false });
  const useCount = state.moduleState?.useCount ?? 0;
  if (plan.commands.some((c) => c.args[0] === '-r') && useCount > 0) {
    const refusal = inUseRefusal(module, useCount, await listRunningGuests(options.run, uri), uri, 'nothing was changed');
    const reloadCheck: Check<HostChangeCheckId> = { id: 'reload', status: 'problem', message: refusal.message };
    throw attach(refusal, refusedReport(state, module, dryRun, [...kernelChecks, reloadCheck], kernel));
  }

  if (!dryRun) await applyPlan(plan, { fs, run: options.run, uri });
  const reload: ReloadOutcome = plan.reload === 'planned' && !dryRun ? 'done' : plan.reload;
  const moduleState = reload === 'done' ? await readKvmModuleState(fs, module) : state.moduleState;
  const nested = moduleState?.nested;
  const checks = [...kernelChecks, ...changeChecks(plan, { dryRun, reload, loaded: moduleState?.loaded ?? false, nested })];
  const ok = plan.persistent.verdict === direction && reload !== 'skipped' && (reload !== 'done' || nestedReadsAsAsked(direction, nested));
  return {
    ok, dryRun, module, path: KVM_CONF_PATH, changes: plan.changes, conflicts: plan.conflicts, commands: plan.commands, reload,
    persistent: plan.persistent, nested, ...(kernel ? { kernel } : {}), checks,
  };
}
