/**
 * `checkHost`: the seed's host steps as a report. Is the CPU's virtualization flag there, is
 * `kvm_intel`/`kvm_amd` loaded, does its `nested` read 1/Y, and will the next load keep it so.
 * `/dev/kvm` and libvirt's CPU modes are advice and never change the verdict.
 */
import { isX86, virtualizationFlagFor, virtualizationName, type KvmModule, type VirtualizationFlag } from './cpuinfo.js';
import { readLibvirtCpuModes, type LibvirtCpuModes } from '../virsh/host-commands.js';
import { DEFAULT_HOST_URI } from './domcapabilities.js';
import { createHostFs } from './host-fs.js';
import { readHostState } from './host-state.js';
import { kernelAdvisoryCheck } from './kernel-advisory-check.js';
import { judgeKernel, type KernelVersion } from './kernel-advisory.js';
import { describeSetting, KERNEL_CMDLINE_PATH, KVM_CONF_PATH, moduleParameters, persistentNestedFrom, type PersistentNested } from './modprobe-config.js';
import type { Check } from './report.js';
import type { CommandRunner } from './run-command.js';

/**
 * The items of a host report, in the order they are listed. `cpu-flag`, `module-loaded`, `nested`,
 * `modprobe-nested` and `kernel-advisory` decide `ok` (with `arch`, as only x86 has the flag);
 * `dev-kvm` and `libvirt-cpu-modes` are advice.
 *
 * @example
 * const nested = report.checks.find((check) => check.id === ('nested' satisfies HostCheckId));
 */
export type HostCheckId = 'arch' | 'cpu-flag' | 'module-loaded' | 'nested' | 'modprobe-nested' | 'kernel-advisory' | 'dev-kvm' | 'libvirt-cpu-modes';

/**
 * What `checkHost` found. Paths in it are as seen on the host (`/etc/modprobe.d/kvm.conf`), whatever
 * `root` was.
 *
 * @example
 * const report = await checkHost({ root: '/', run: runCommand });
 * if (!report.ok) for (const check of report.checks) if (check.status === 'problem') console.log(check.message, check.fix);
 */
export interface HostReport {
  /** Nested virtualization is on now and stays on at the next load of the module, on a kernel not known to be vulnerable. */
  readonly ok: boolean;
  /** From `/proc/cpuinfo`: `x86_64`, `aarch64`, …; see `parseCpuinfo`. */
  readonly arch: string;
  /** `vendor_id` from `/proc/cpuinfo` (`GenuineIntel`, `AuthenticAMD`). */
  readonly vendor: string | undefined;
  /** The flag the module needs (`vmx` for kvm_intel, `svm` for kvm_amd). */
  readonly flag: VirtualizationFlag | undefined;
  readonly flagPresent: boolean;
  /** The CPU has the `hypervisor` flag: this host is itself a guest. */
  readonly hypervisor: boolean;
  readonly module: KvmModule | undefined;
  readonly moduleLoaded: boolean;
  /** What `/sys/module/MODULE/parameters/nested` reads, trimmed. */
  readonly nested: string | undefined;
  readonly nestedEnabled: boolean;
  /** What modprobe's configuration gives `nested` at the next load. */
  readonly persistent: PersistentNested;
  readonly devKvm: boolean;
  /** The running kernel, as the `kernel-advisory` check read it. */
  readonly kernel: KernelVersion;
  /** libvirt's CPU modes for kvm guests; `undefined` when not asked (not x86). */
  readonly libvirt: LibvirtCpuModes | undefined;
  readonly checks: ReadonlyArray<Check<HostCheckId>>;
}

/**
 * What `checkHost` needs from the world.
 *
 * @example
 * const options: CheckHostOptions = { root: 'fixtures/hosts/intel-nested-on', run: runCommand };
 */
export interface CheckHostOptions {
  /** The directory standing for `/`. */
  readonly root: string;
  /** Runs `virsh domcapabilities`; its failure only makes the libvirt item `not-applicable`. */
  readonly run: CommandRunner;
  /** The libvirt URI asked; `qemu:///system` when not given. */
  readonly uri?: string;
}

const ONLY_X86 = 'not checked, because nested virtualization is only supported on x86';

/**
 * The message that says why a flag is missing and what to do, shared by host and guest checks.
 *
 * @example
 * missingFlagFix('svm', true); // 'this machine is itself a guest: on its host, give it a CPU with svm (virt-nested set-cpu GUEST --mode host-model) and restart it'
 */
export function missingFlagFix(flag: VirtualizationFlag, hypervisor: boolean): string {
  return hypervisor
    ? `this machine is itself a guest: on its host, give it a CPU with ${flag} (virt-nested set-cpu GUEST --mode host-model) and restart it`
    : `enable ${virtualizationName(flag)} in the firmware setup and reboot`;
}

function persistentCheck(persistent: PersistentNested, module: KvmModule, flagPresent: boolean, kernelVulnerable: boolean): Check<HostCheckId> {
  const id = 'modprobe-nested';
  const source = persistent.source;
  if (source === undefined) {
    const message = `no modprobe.d file sets nested for ${module}, so the kernel's default applies at the next load`;
    // enable-host refuses a CPU without the flag, and a kernel without the fixes: no fix there.
    return flagPresent && !kernelVulnerable
      ? { id, status: 'not-applicable', message, fix: 'to keep nested on across reloads and reboots, run: virt-nested enable-host' }
      : { id, status: 'not-applicable', message };
  }
  const given = source.value === undefined ? source.name : `${source.name}=${source.value}`;
  const where = describeSetting(source);
  if (persistent.verdict === 'on') return { id, status: 'ok', message: `${where} sets ${given} for ${module} at the next load` };
  const fix = source.path === KERNEL_CMDLINE_PATH
    ? `remove ${source.text} from the kernel command line and reboot`
    : source.path === KVM_CONF_PATH
      ? 'run: virt-nested enable-host'
      : 'run: virt-nested enable-host --fix-conflicts';
  const message = persistent.verdict === 'off'
    ? `${where} sets ${given} for ${module}, so nested virtualization is off after the next load`
    : `${where} sets ${given} for ${module}, a value the kernel refuses, so ${module} would not load`;
  return { id, status: 'problem', message, fix };
}

function libvirtCheck(libvirt: LibvirtCpuModes): Check<HostCheckId> {
  const id = 'libvirt-cpu-modes';
  const { hostModel, hostPassthrough } = libvirt;
  if (hostModel === undefined && hostPassthrough === undefined) {
    return { id, status: 'not-applicable', message: `libvirt gave no answer about CPU modes for kvm guests (${libvirt.error ?? 'no reason given'})` };
  }
  if (hostModel && hostPassthrough) return { id, status: 'ok', message: 'libvirt offers host-model and host-passthrough for kvm guests' };
  if (hostModel) return { id, status: 'ok', message: 'libvirt offers host-model (not host-passthrough) for kvm guests' };
  if (hostPassthrough) return { id, status: 'ok', message: 'libvirt offers host-passthrough (not host-model) for kvm guests' };
  return {
    id,
    status: 'problem',
    message: 'libvirt offers neither host-model nor host-passthrough for kvm guests',
    fix: `check what libvirt says about KVM: virsh -c ${libvirt.uri} domcapabilities --virttype kvm`,
  };
}

/**
 * Checks nested virtualization on the host under `root`, the seed's first steps: the CPU flag, the
 * module, its `nested` parameter and what modprobe.d sets for the next load; then `/dev/kvm` and
 * libvirt's CPU modes as advice.
 *
 * @example
 * const report = await checkHost({ root: '/', run: runCommand });
 * console.log(report.ok ? 'nested virtualization is on' : report.checks.filter((c) => c.status === 'problem'));
 */
export async function checkHost(options: CheckHostOptions): Promise<HostReport> {
  const { root, run } = options;
  const state = await readHostState(createHostFs(root));
  const { cpu, module, devKvm } = state;
  const hypervisor = cpu.flags.includes('hypervisor');
  const judgement = judgeKernel(state.kernel);
  const archCheck: Check<HostCheckId> = isX86(cpu.arch)
    ? { id: 'arch', status: 'ok', message: `the CPU is ${cpu.arch}${cpu.vendor === undefined ? '' : ` (${cpu.vendor})`}` }
    : { id: 'arch', status: 'problem', message: `nested virtualization is only supported on x86, and this CPU is ${cpu.arch}`, fix: 'run nested guests on an x86 host' };

  if (module === undefined) {
    const notX86 = !isX86(cpu.arch);
    const skipped = (id: HostCheckId, message: string): Check<HostCheckId> => ({ id, status: 'not-applicable', message: notX86 ? ONLY_X86 : message });
    const checks: Array<Check<HostCheckId>> = [
      archCheck,
      notX86
        ? skipped('cpu-flag', '')
        : { id: 'cpu-flag', status: 'problem', message: `the CPU (vendor ${cpu.vendor ?? 'unknown'}) has neither vmx nor svm`, fix: 'run nested guests on an Intel or AMD host with VT-x or AMD-V enabled' },
      skipped('module-loaded', 'no KVM module fits this CPU'),
      skipped('nested', 'no KVM module fits this CPU'),
      skipped('modprobe-nested', 'no KVM module fits this CPU'),
      skipped('kernel-advisory', 'no KVM module fits this CPU'),
      skipped('dev-kvm', 'no KVM module fits this CPU'),
      skipped('libvirt-cpu-modes', 'no KVM module fits this CPU'),
    ];
    return {
      ok: false, arch: cpu.arch, vendor: cpu.vendor, flag: undefined, flagPresent: false, hypervisor,
      module: undefined, moduleLoaded: false, nested: undefined, nestedEnabled: false,
      persistent: persistentNestedFrom([]), devKvm, kernel: judgement.kernel, libvirt: undefined, checks,
    };
  }

  const flag = virtualizationFlagFor(module);
  const flagPresent = cpu.flags.includes(flag);
  const moduleState = state.moduleState ?? { loaded: false, nested: undefined, nestedEnabled: false, useCount: undefined };
  const persistent = persistentNestedFrom(moduleParameters(state.files, state.cmdline, module, 'nested'));
  const kernelCheck = kernelAdvisoryCheck<HostCheckId>('kernel-advisory', judgement, moduleState.nestedEnabled);
  const libvirt = await readLibvirtCpuModes(run, options.uri ?? DEFAULT_HOST_URI);

  // What brings nested on now: enable-host --reload, unless a setting elsewhere would undo it.
  const overriddenBy = persistent.verdict === 'off' || persistent.verdict === 'invalid' ? persistent.source?.path : undefined;
  const reloadFix = overriddenBy === KERNEL_CMDLINE_PATH
    ? `remove ${persistent.source?.text ?? ''} from the kernel command line and reboot`
    : `run: virt-nested enable-host --reload${overriddenBy !== undefined && overriddenBy !== KVM_CONF_PATH ? ' --fix-conflicts' : ''}`;
  const flagCheck: Check<HostCheckId> = flagPresent
    ? { id: 'cpu-flag', status: 'ok', message: `the CPU has the ${flag} flag (${virtualizationName(flag)})` }
    : { id: 'cpu-flag', status: 'problem', message: `the CPU has no ${flag} flag, so KVM cannot use ${virtualizationName(flag)} here`, fix: missingFlagFix(flag, hypervisor) };
  const moduleCheck: Check<HostCheckId> = moduleState.loaded
    ? { id: 'module-loaded', status: 'ok', message: `${module} is loaded` }
    : { id: 'module-loaded', status: 'problem', message: `${module} is not loaded`, fix: flagPresent ? reloadFix : `${module} can load only once the CPU has ${flag}` };
  let nestedCheck: Check<HostCheckId>;
  if (!moduleState.loaded) {
    nestedCheck = { id: 'nested', status: 'not-applicable', message: `${module} is not loaded, so it has no nested parameter to read` };
  } else if (moduleState.nested === undefined) {
    nestedCheck = { id: 'nested', status: 'problem', message: `${module} has no nested parameter in /sys/module/${module}/parameters`, fix: `use a kernel whose ${module} has the nested parameter` };
  } else if (moduleState.nestedEnabled) {
    nestedCheck = { id: 'nested', status: 'ok', message: `${module}'s nested parameter reads ${moduleState.nested}` };
  } else {
    nestedCheck = { id: 'nested', status: 'problem', message: `${module}'s nested parameter reads ${moduleState.nested}`, fix: reloadFix };
  }
  let devKvmFix: string;
  if (!flagPresent) devKvmFix = `it appears once the CPU has ${flag} and ${module} is loaded`;
  else if (!moduleState.loaded) devKvmFix = reloadFix;
  else devKvmFix = `look for why ${module} made none: dmesg | grep -i kvm`;
  const devKvmCheck: Check<HostCheckId> = devKvm
    ? { id: 'dev-kvm', status: 'ok', message: '/dev/kvm is present' }
    : { id: 'dev-kvm', status: 'problem', message: '/dev/kvm is missing, so libvirt cannot start kvm guests', fix: devKvmFix };

  const persistentOn = persistent.verdict === 'on' || persistent.verdict === 'unset';
  return {
    ok: flagPresent && moduleState.loaded && moduleState.nestedEnabled && persistentOn && kernelCheck.status !== 'problem',
    arch: cpu.arch,
    vendor: cpu.vendor,
    flag,
    flagPresent,
    hypervisor,
    module,
    moduleLoaded: moduleState.loaded,
    nested: moduleState.nested,
    nestedEnabled: moduleState.nestedEnabled,
    persistent,
    devKvm,
    kernel: judgement.kernel,
    libvirt,
    checks: [archCheck, flagCheck, moduleCheck, nestedCheck, persistentCheck(persistent, module, flagPresent, judgement.verdict === 'vulnerable'), kernelCheck, devKvmCheck, libvirtCheck(libvirt)],
  };
}
