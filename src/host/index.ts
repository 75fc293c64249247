/**
 * The host side of virt-nested: `checkHost`, `enableHost`, `disableHost` and `checkGuest`, over a
 * root directory standing for `/` and an injected command runner. Inside, each command reads the
 * machine once (`readHostState`), plans without effects (`planNested`), and only `applyPlan` writes.
 */
export { checkHost, type CheckHostOptions, type HostCheckId, type HostReport } from './check-host.js';
export { checkGuest, type CheckGuestOptions, type GuestCheckId, type GuestReport } from './check-guest.js';
export { enableHost, type EnableHostOptions, type EnableHostResult } from './enable-host.js';
export { disableHost, type DisableHostOptions, type DisableHostResult } from './disable-host.js';
export type { HostChangeOptions, HostChangeResult, RefusalReport } from './set-host-nested.js';
export type { HostChangeCheckId } from './nested-checks.js';
export type { FileChange, ModprobeConflict, PlannedCommand, ReloadOutcome, NestedDirection } from './nested-plan.js';
export { GuestsRunningError } from '../errors.js';
export { listRunningGuests, type GuestNames } from './module-users.js';
export { KERNEL_ADVISORIES, type KernelAdvisory } from './kernel-advisories.js';
export { judgeKernel, kernelVersion, type KernelFiles, type KernelJudgement, type KernelVersion } from './kernel-advisory.js';
export { parseCpuinfo, isX86, kvmModuleFor, type CpuInfo, type KvmModule, type VirtualizationFlag } from './cpuinfo.js';
export { DEFAULT_HOST_URI, parseCpuModes, readLibvirtCpuModes, type LibvirtCpuModes } from './domcapabilities.js';
export { readKvmModuleState, type KvmModuleState } from './kvm-module.js';
export { KERNEL_CMDLINE_PATH, KVM_CONF_PATH, MODPROBE_DIRECTORIES, type ModprobeFile, type ModuleParameter, type PersistentNested } from './modprobe-config.js';
export { DEFAULT_COMMAND_TIMEOUT, runCommand, type CommandOptions, type CommandResult, type CommandRunner } from './run-command.js';
/**
 * The item shape shared by every report.
 *
 * @example
 * const failed = (checks: readonly Check[]) => checks.filter((check) => check.status === 'problem');
 */
export type { Check, CheckStatus } from './report.js';
export type { AtomicWriteFs, AtomicWriteHandle } from '../fs/atomic-write.js';
export type { HostFs, HostPathKind, ResolvedPath } from './host-fs.js';
