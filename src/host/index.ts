/**
 * The host side of virt-nested: `checkHost`, `enableHost` and `checkGuest`, over a root directory
 * standing for `/` and an injected command runner.
 */
export { checkHost, readCpuinfo, type CheckHostOptions, type HostCheckId, type HostReport } from './check-host.js';
export { checkGuest, type CheckGuestOptions, type GuestCheckId, type GuestReport } from './check-guest.js';
export {
  enableHost,
  GuestsRunningError,
  listRunningGuests,
  type EnableHostCheckId,
  type EnableHostOptions,
  type EnableHostResult,
  type FileChange,
  type ModprobeConflict,
  type PlannedCommand,
  type ReloadOutcome,
} from './enable-host.js';
export { parseCpuinfo, isX86, kvmModuleFor, type CpuInfo, type KvmModule, type VirtualizationFlag } from './cpuinfo.js';
export { DEFAULT_HOST_URI, parseCpuModes, readLibvirtCpuModes, type LibvirtCpuModes } from './domcapabilities.js';
export { readKvmModuleState, type KvmModuleState } from './kvm-module.js';
export {
  KVM_CONF_PATH,
  MODPROBE_DIRECTORIES,
  kernelBool,
  moduleParameters,
  parseKernelCmdline,
  parseModprobeText,
  readModprobeFiles,
  readPersistentNested,
  type KernelParameter,
  type ModprobeFile,
  type ModprobeLine,
  type ModuleParameter,
  type PersistentNested,
} from './modprobe-config.js';
export { disableNestedLines, setNestedOption } from './modprobe-edit.js';
export { writeFileAtomic, type AtomicWriteFs, type AtomicWriteHandle, type AtomicWriteOptions } from '../fs/atomic-write.js';
export { DEFAULT_COMMAND_TIMEOUT, runCommand, type CommandOptions, type CommandResult, type CommandRunner } from './run-command.js';
/**
 * The item shape shared by every report.
 *
 * @example
 * const failed = (checks: readonly Check[]) => checks.filter((check) => check.status === 'problem');
 */
export type { Check, CheckStatus } from './report.js';
