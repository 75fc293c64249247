/**
 * virt-nested: turn on nested virtualization for libvirt/KVM guests, safely.
 *
 * @example
 * import { parseDomain, setCpuMode, serializeDomain } from 'virt-nested';
 * const next = setCpuMode(parseDomain(xml), 'host-model');
 * await writeFile(path, serializeDomain(next));
 */
export * from './errors.js';
export type * from './domain/types.js';
export { parseDomain, type ParseDomainOptions } from './domain/parse-domain.js';
export { serializeDomain } from './domain/serialize-domain.js';
export { setCpuMode, CPU_MODES, type CpuCheck, type SetCpuModeOptions } from './cpu/set-cpu-mode.js';
export { warningsFor, VIRTUALIZATION_FEATURES } from './cpu/warnings.js';
export * from './host/index.js';
export * from './virsh/index.js';
