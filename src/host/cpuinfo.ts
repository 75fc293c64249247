/**
 * `/proc/cpuinfo` as the seed reads it: the architecture, the x86 vendor, and the flags that say
 * whether the CPU offers virtualization to KVM (`vmx` for Intel VT-x, `svm` for AMD-V).
 */

/**
 * The KVM module for an x86 CPU: Intel (and VIA/Zhaoxin) need `kvm_intel`, AMD (and Hygon) `kvm_amd`.
 *
 * @example
 * const module: KvmModule = 'kvm_amd';
 */
export type KvmModule = 'kvm_intel' | 'kvm_amd';

/**
 * The CPU flag each KVM module needs: `vmx` (Intel VT-x) or `svm` (AMD-V).
 *
 * @example
 * const flag: VirtualizationFlag = 'vmx';
 */
export type VirtualizationFlag = 'vmx' | 'svm';

/**
 * What `/proc/cpuinfo` says about the first processor.
 *
 * @example
 * const cpu: CpuInfo = { arch: 'x86_64', vendor: 'GenuineIntel', flags: ['fpu', 'vmx', 'lm'] };
 */
export interface CpuInfo {
  /** `x86_64`, `i686`, `aarch64`, `arm`, `ppc64`, `s390x`, `riscv64` or `unknown`. */
  readonly arch: string;
  /** The `vendor_id` line (`GenuineIntel`, `AuthenticAMD`), when there is one. */
  readonly vendor: string | undefined;
  /** The x86 `flags` line, split; empty on other architectures. */
  readonly flags: readonly string[];
}

function firstProcessorFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    // Later processors repeat the same keys; the first one speaks for the machine.
    if (key !== '' && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

function archOf(fields: Map<string, string>): string {
  const flags = fields.get('flags');
  const vendor = fields.get('vendor_id');
  if (flags !== undefined && vendor !== undefined) return flags.split(/\s+/).includes('lm') ? 'x86_64' : 'i686';
  if (vendor === 'IBM/S390') return 's390x';
  const armArchitecture = fields.get('CPU architecture');
  if (armArchitecture !== undefined) {
    return armArchitecture === 'AArch64' || Number.parseInt(armArchitecture, 10) >= 8 ? 'aarch64' : 'arm';
  }
  if (fields.get('cpu')?.startsWith('POWER') || fields.has('platform')) return 'ppc64';
  if (fields.get('isa')?.startsWith('rv64')) return 'riscv64';
  return 'unknown';
}

/**
 * Parses `/proc/cpuinfo`.
 *
 * @example
 * parseCpuinfo('processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx lm\n');
 * // { arch: 'x86_64', vendor: 'GenuineIntel', flags: ['fpu', 'vmx', 'lm'] }
 */
export function parseCpuinfo(text: string): CpuInfo {
  const fields = firstProcessorFields(text);
  const arch = archOf(fields);
  const flags = isX86(arch) ? (fields.get('flags') ?? '').split(/\s+/).filter((flag) => flag !== '') : [];
  return { arch, vendor: fields.get('vendor_id'), flags };
}

/**
 * Whether an architecture from {@link parseCpuinfo} is x86, the only one nested virtualization supports here.
 *
 * @example
 * isX86('x86_64'); // true
 */
export function isX86(arch: string): boolean {
  return arch === 'x86_64' || arch === 'i686';
}

const INTEL_VENDORS: ReadonlySet<string> = new Set(['GenuineIntel', 'CentaurHauls', 'Shanghai']);
const AMD_VENDORS: ReadonlySet<string> = new Set(['AuthenticAMD', 'HygonGenuine']);

/**
 * The KVM module this CPU needs: from its flag when it has one, else from its vendor; `undefined`
 * off x86 or for a vendor KVM does not know.
 *
 * @example
 * kvmModuleFor({ arch: 'x86_64', vendor: 'AuthenticAMD', flags: ['svm'] }); // 'kvm_amd'
 */
export function kvmModuleFor(cpu: CpuInfo): KvmModule | undefined {
  if (!isX86(cpu.arch)) return undefined;
  if (cpu.flags.includes('vmx')) return 'kvm_intel';
  if (cpu.flags.includes('svm')) return 'kvm_amd';
  if (cpu.vendor !== undefined && INTEL_VENDORS.has(cpu.vendor)) return 'kvm_intel';
  if (cpu.vendor !== undefined && AMD_VENDORS.has(cpu.vendor)) return 'kvm_amd';
  return undefined;
}

/**
 * The CPU flag a KVM module needs.
 *
 * @example
 * virtualizationFlagFor('kvm_intel'); // 'vmx'
 */
export function virtualizationFlagFor(module: KvmModule): VirtualizationFlag {
  return module === 'kvm_intel' ? 'vmx' : 'svm';
}

/**
 * The vendor's name for the virtualization a flag stands for, for messages.
 *
 * @example
 * virtualizationName('svm'); // 'AMD-V'
 */
export function virtualizationName(flag: VirtualizationFlag): string {
  return flag === 'vmx' ? 'Intel VT-x' : 'AMD-V';
}
