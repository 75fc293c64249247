import type { CpuFeature, CpuMode, Domain, DomainCpu, DomainWarning } from '../domain/types.js';
import type { HostModelCpu, NestedPolicy } from './nested.js';

/** The CPU features that carry hardware virtualization: Intel VT-x and AMD-V. */
export const VIRTUALIZATION_FEATURES: readonly string[] = ['vmx', 'svm'];

const X86 = /^(x86_64|i686)$/;

/**
 * Whether a `<feature>` takes vmx/svm away from the guest (policy disable or forbid).
 *
 * @example
 * disablesVirtualization({ name: 'svm', policy: 'disable' }) // true
 */
export function disablesVirtualization(feature: { readonly name: string; readonly policy: string | undefined }): boolean {
  return VIRTUALIZATION_FEATURES.includes(feature.name) && (feature.policy === 'disable' || feature.policy === 'forbid');
}

/**
 * The `<feature>`s of a `<cpu>` that take vmx/svm away from the guest.
 *
 * @example
 * disabledVirtualizationFeatures(domain.cpu) // [{ name: 'vmx', policy: 'disable' }]
 */
export function disabledVirtualizationFeatures(cpu: DomainCpu | undefined): CpuFeature[] {
  return (cpu?.features ?? []).filter(disablesVirtualization);
}

/**
 * The virtualization flag of a host-model CPU's vendor: `vmx` for Intel (and Zhaoxin/Centaur), `svm`
 * for AMD and Hygon; undefined for a vendor libvirt did not name.
 *
 * @example
 * hostVirtualizationFlag({ model: 'EPYC', vendor: 'AMD', features: [] }) // 'svm'
 */
export function hostVirtualizationFlag(hostModel: HostModelCpu): 'vmx' | 'svm' | undefined {
  const vendor = hostModel.vendor?.toLowerCase();
  if (vendor === 'intel' || vendor === 'zhaoxin' || vendor === 'centaur') return 'vmx';
  if (vendor === 'amd' || vendor === 'hygon') return 'svm';
  return undefined;
}

/**
 * What would keep `domain` (with CPU `mode`) from giving its guest nested virtualization, and what
 * the mode costs. With `nested: 'off'` a disabled vmx/svm is what was asked, not a warning.
 *
 * @example
 * warningsFor(parseDomain(xml), 'host-passthrough').map((w) => w.code) // ['host-passthrough-migration']
 */
export function warningsFor(domain: Domain, mode: CpuMode, options: { readonly nested?: NestedPolicy } = {}): DomainWarning[] {
  const warnings: DomainWarning[] = [];
  const who = domain.name === undefined ? 'the guest' : `guest "${domain.name}"`;
  const disabled = options.nested === 'off' ? [] : disabledVirtualizationFeatures(domain.cpu);
  for (const feature of disabled) {
    warnings.push({
      code: 'nested-feature-disabled',
      message: `${who} has <feature policy='${feature.policy}' name='${feature.name}'/>, which hides ${feature.name} from the guest and defeats nesting; remove it`,
    });
  }
  const arch = domain.os.arch;
  if (arch !== undefined && !X86.test(arch)) {
    warnings.push({ code: 'arch-not-x86', message: `${who} is ${arch}: nested virtualization with vmx/svm is supported only on x86` });
  }
  if (domain.type !== undefined && domain.type !== 'kvm') {
    warnings.push({
      code: 'driver-not-kvm',
      message: `${who} has domain type '${domain.type}', not 'kvm': the guest's hypervisors will run without hardware acceleration`,
    });
  }
  if (mode === 'host-passthrough') {
    warnings.push({
      code: 'host-passthrough-migration',
      message: `host-passthrough ties ${who} to hosts with an identical CPU for migration; host-model does not`,
    });
  }
  return warnings;
}
