/**
 * `checkGuest`: the seed's check inside a guest (`egrep "svm|vmx" /proc/cpuinfo`), with the
 * `hypervisor` flag and `/dev/kvm` as context. The verdict is the flag alone.
 */
import { isX86, kvmModuleFor, virtualizationFlagFor, virtualizationName } from './cpuinfo.js';
import { missingFlagFix } from './check-host.js';
import { createHostFs } from './host-fs.js';
import { readCpuinfo } from './host-state.js';
import type { Check } from './report.js';

/**
 * The items of a guest report, in the order they are listed; `cpu-flag` decides `ok`.
 *
 * @example
 * const flagCheck = report.checks.find((check) => check.id === ('cpu-flag' satisfies GuestCheckId));
 */
export type GuestCheckId = 'arch' | 'cpu-flag' | 'hypervisor' | 'dev-kvm';

/**
 * What `checkGuest` found on the machine it looked at.
 *
 * @example
 * const report = await checkGuest({ root: '/' });
 * console.log(report.ok, report.vmx, report.svm, report.hypervisor);
 */
export interface GuestReport {
  /** The CPU has `vmx` or `svm`: this machine can run KVM guests of its own. */
  readonly ok: boolean;
  readonly arch: string;
  readonly vendor: string | undefined;
  readonly vmx: boolean;
  readonly svm: boolean;
  /** The CPU has the `hypervisor` flag: this machine is a guest. */
  readonly hypervisor: boolean;
  readonly devKvm: boolean;
  readonly checks: ReadonlyArray<Check<GuestCheckId>>;
}

/**
 * What `checkGuest` needs from the world.
 *
 * @example
 * const options: CheckGuestOptions = { root: 'fixtures/hosts/guest-vmx' };
 */
export interface CheckGuestOptions {
  /** The directory standing for `/`. */
  readonly root: string;
}

/**
 * Checks, from inside a machine, whether its CPU offers virtualization to KVM guests of its own.
 *
 * @example
 * const { ok, checks } = await checkGuest({ root: '/' });
 */
export async function checkGuest(options: CheckGuestOptions): Promise<GuestReport> {
  const { root } = options;
  const fs = createHostFs(root);
  const cpu = await readCpuinfo(fs);
  const vmx = cpu.flags.includes('vmx');
  const svm = cpu.flags.includes('svm');
  const hypervisor = cpu.flags.includes('hypervisor');
  const devKvm = await fs.exists('/dev/kvm');
  const x86 = isX86(cpu.arch);
  const checks: Array<Check<GuestCheckId>> = [];

  if (x86) {
    checks.push({ id: 'arch', status: 'ok', message: `the CPU is ${cpu.arch}${cpu.vendor === undefined ? '' : ` (${cpu.vendor})`}` });
  } else {
    checks.push({ id: 'arch', status: 'problem', message: `nested virtualization is only supported on x86, and this CPU is ${cpu.arch}`, fix: 'run nested guests on an x86 machine' });
  }

  if (!x86) {
    checks.push({ id: 'cpu-flag', status: 'not-applicable', message: 'not checked, because nested virtualization is only supported on x86' });
  } else if (vmx || svm) {
    const flag = vmx ? 'vmx' : 'svm';
    checks.push({ id: 'cpu-flag', status: 'ok', message: `the CPU has the ${flag} flag (${virtualizationName(flag)}), so this machine can run KVM guests of its own` });
  } else {
    const module = kvmModuleFor(cpu);
    const fix = hypervisor
      ? 'on the host, give this guest a CPU with vmx or svm (virt-nested set-cpu GUEST --mode host-model) and restart it'
      : module === undefined ? 'run nested guests on an Intel or AMD machine' : missingFlagFix(virtualizationFlagFor(module), false);
    checks.push({ id: 'cpu-flag', status: 'problem', message: 'the CPU has neither vmx nor svm, so this machine cannot run KVM guests of its own', fix });
  }

  checks.push(hypervisor
    ? { id: 'hypervisor', status: 'ok', message: 'the CPU has the hypervisor flag, so this machine is a guest' }
    : { id: 'hypervisor', status: 'ok', message: 'the CPU has no hypervisor flag, so this machine looks like bare metal' });

  if (devKvm) {
    checks.push({ id: 'dev-kvm', status: 'ok', message: '/dev/kvm is present' });
  } else if (!x86) {
    checks.push({ id: 'dev-kvm', status: 'not-applicable', message: 'not checked, because nested virtualization is only supported on x86' });
  } else {
    const module = kvmModuleFor(cpu);
    const fix = (vmx || svm) && module !== undefined ? `load the KVM module: modprobe ${module}` : 'it appears once the CPU has vmx or svm and the KVM module is loaded';
    checks.push({ id: 'dev-kvm', status: 'problem', message: '/dev/kvm is missing, so this machine cannot start KVM guests yet', fix });
  }

  return { ok: x86 && (vmx || svm), arch: cpu.arch, vendor: cpu.vendor, vmx, svm, hypervisor, devKvm, checks };
}
