/**
 * The typed, read-only model of a libvirt domain. Names are libvirt's own (formatdomain): a reader who
 * knows the XML knows the model. Every object is frozen.
 */

/** The CPU modes that give a guest the host's virtualization extensions. */
export type CpuMode = 'host-model' | 'host-passthrough';

/** An amount of memory as written, and normalized to KiB (libvirt's default unit). */
export interface Memory {
  /** The amount in KiB (rounded up, as libvirt does). */
  readonly kib: number;
  /** The number as written. */
  readonly value: number;
  /** The unit as written ('KiB' when none was). */
  readonly unit: string;
}

/** `<vcpu>`. */
export interface Vcpu {
  readonly count: number;
  readonly placement: string | undefined;
  readonly current: number | undefined;
  readonly cpuset: string | undefined;
}

/** `<os>`. */
export interface DomainOs {
  /** The text of `<type>`: 'hvm', 'xen', 'linux', 'exe'. */
  readonly type: string | undefined;
  readonly arch: string | undefined;
  readonly machine: string | undefined;
  /** `<os firmware='efi|bios'>`. */
  readonly firmware: string | undefined;
  readonly loader: string | undefined;
  readonly boot: readonly string[];
}

/** `<cpu><topology>`. */
export interface CpuTopology {
  readonly sockets: number | undefined;
  readonly dies: number | undefined;
  readonly clusters: number | undefined;
  readonly cores: number | undefined;
  readonly threads: number | undefined;
}

/** `<cpu><feature policy='…' name='…'/>`. */
export interface CpuFeature {
  readonly name: string;
  /** force, require, optional, disable, forbid (absent means require). */
  readonly policy: string | undefined;
}

/** The top-level `<cpu>` of a domain. */
export interface DomainCpu {
  readonly mode: string | undefined;
  readonly check: string | undefined;
  readonly match: string | undefined;
  readonly migratable: string | undefined;
  readonly model: { readonly name: string; readonly fallback: string | undefined } | undefined;
  readonly vendor: string | undefined;
  readonly topology: CpuTopology | undefined;
  readonly features: readonly CpuFeature[];
}

/** A device: its element name (`kind`), its `type` attribute, and all its attributes. */
export interface Device {
  readonly kind: string;
  readonly type: string | undefined;
  readonly attributes: Readonly<Record<string, string>>;
}

/** `<disk>`. */
export interface Disk extends Device {
  readonly kind: 'disk';
  readonly device: string | undefined;
  readonly target: { readonly dev: string | undefined; readonly bus: string | undefined } | undefined;
  /** The source's file, dev, dir, volume or name, whichever is set. */
  readonly source: string | undefined;
  readonly driver: { readonly name: string | undefined; readonly type: string | undefined } | undefined;
}

/** `<interface>`. */
export interface Interface extends Device {
  readonly kind: 'interface';
  readonly mac: string | undefined;
  /** The source's network, bridge or dev, whichever is set. */
  readonly source: string | undefined;
  readonly model: string | undefined;
}

/** `<graphics>`. `passwd` is present only when the XML was read with `--security-info`. */
export interface Graphics extends Device {
  readonly kind: 'graphics';
  readonly port: string | undefined;
  readonly listen: string | undefined;
  readonly passwd: string | undefined;
}

/** `<devices>`, grouped by kind; `all` keeps document order. */
export interface DomainDevices {
  readonly emulator: string | undefined;
  readonly disks: readonly Disk[];
  readonly interfaces: readonly Interface[];
  readonly graphics: readonly Graphics[];
  readonly controllers: readonly Device[];
  readonly hostdevs: readonly Device[];
  readonly videos: readonly Device[];
  readonly serials: readonly Device[];
  readonly consoles: readonly Device[];
  readonly channels: readonly Device[];
  readonly inputs: readonly Device[];
  readonly sounds: readonly Device[];
  readonly filesystems: readonly Device[];
  readonly rngs: readonly Device[];
  readonly tpms: readonly Device[];
  readonly watchdogs: readonly Device[];
  readonly memballoons: readonly Device[];
  /** Every device in document order, including kinds without a list of their own. */
  readonly all: readonly Device[];
}

/** Why a result may not give its guest nested virtualization, or what it costs. */
export interface DomainWarning {
  readonly code:
    | 'nested-feature-disabled'
    | 'arch-not-x86'
    | 'driver-not-kvm'
    | 'host-passthrough-migration';
  readonly message: string;
}

/**
 * A parsed domain. Read-only; `serializeDomain` gives back its text, byte for byte.
 */
export interface Domain {
  /** `<domain type='…'>`: kvm, qemu, xen, lxc… */
  readonly type: string | undefined;
  readonly name: string | undefined;
  readonly uuid: string | undefined;
  readonly title: string | undefined;
  readonly description: string | undefined;
  readonly memory: Memory | undefined;
  readonly currentMemory: Memory | undefined;
  readonly vcpu: Vcpu | undefined;
  readonly os: DomainOs;
  /** The names of the children of `<features>` (acpi, apic, pae…). */
  readonly features: readonly string[];
  readonly cpu: DomainCpu | undefined;
  readonly devices: DomainDevices;
  /** Warnings about the result of an edit (empty for a domain fresh from `parseDomain`). */
  readonly warnings: readonly DomainWarning[];
}
