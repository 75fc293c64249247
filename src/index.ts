/**
 * virt-nested: turn on nested virtualization for libvirt/KVM guests, safely.
 *
 * The public API, named one by one: what PRODUCT.md and the docs promise, and the types their signatures
 * use. Helpers that serve these (atomic writes, virsh quoting, modprobe parsing, …) stay in their modules;
 * tests reach them there.
 *
 * @example
 * import { parseDomain, setCpuMode, serializeDomain } from 'virt-nested';
 * const next = setCpuMode(parseDomain(xml), 'host-model');
 * await writeFile(path, serializeDomain(next));
 */
export * from './errors.js';
export { EXIT_OK, EXIT_FAILED, EXIT_USAGE, exitCodeFor, exitCodeForCode } from './cli/exit-codes.js';
export type * from './domain/types.js';
export { parseDomain, type ParseDomainOptions } from './domain/parse-domain.js';
export { serializeDomain } from './domain/serialize-domain.js';
export { setCpuMode, CPU_MODES, type CpuCheck, type SetCpuModeOptions } from './cpu/set-cpu-mode.js';

export { checkHost, type CheckHostOptions, type HostCheckId, type HostReport } from './host/check-host.js';
export { checkGuest, type CheckGuestOptions, type GuestCheckId, type GuestReport } from './host/check-guest.js';
export { enableHost, type EnableHostOptions, type EnableHostResult } from './host/enable-host.js';
export { disableHost, type DisableHostOptions, type DisableHostResult } from './host/disable-host.js';
export type { HostChangeOptions, HostChangeResult, RefusalReport } from './host/set-host-nested.js';
export type { HostChangeCheckId } from './host/nested-checks.js';
export type { FileChange, ModprobeConflict, PlannedCommand, ReloadOutcome, NestedDirection } from './host/nested-plan.js';
export { KERNEL_ADVISORIES, type KernelAdvisory } from './host/kernel-advisories.js';
export type { KernelVersion } from './host/kernel-advisory.js';
export type { CpuInfo, KvmModule, VirtualizationFlag } from './host/cpuinfo.js';
export type { LibvirtCpuModes } from './host/domcapabilities.js';
export { KERNEL_CMDLINE_PATH, KVM_CONF_PATH, type ModprobeFile, type ModuleParameter, type PersistentNested } from './host/modprobe-config.js';
export { runCommand, DEFAULT_COMMAND_TIMEOUT, type CommandOptions, type CommandResult, type CommandRunner } from './host/run-command.js';
export type { Check, CheckStatus } from './host/report.js';

export { openVirsh, withVirsh, DEFAULT_VIRSH_TIMEOUT_MS } from './virsh/session.js';
export type { OpenVirshOptions, VirshSession } from './virsh/session.js';
export type { VirshOutput, VirshRunOptions, VirshRunner } from './virsh/runner.js';
export type { SessionCommands } from './virsh/session-commands.js';
export type { DomcapabilitiesOptions } from './virsh/domcapabilities.js';
export type { HostFailure } from './virsh/each-host.js';
export type { DefineOptions, DomainState, DumpxmlOptions, ListGuestsOptions } from './virsh/domain-commands.js';
export type { DestroyOptions, ShutdownOptions, UndefineOptions } from './virsh/lifecycle-commands.js';

export { NESTED_POLICIES, type NestedPolicy, type HostModelCpu } from './cpu/nested.js';
export { hostModelCpu } from './virsh/domcapabilities-xml.js';
export type { ApplyWarning } from './apply/plan-cpu-mode.js';

export { checkRunningGuest, type RunningGuestReport, type CheckRunningGuestOptions } from './guest/check-running-guest.js';
export { checkRunningGuests, type CheckRunningGuestsOptions, type RunningGuestsReport, type GuestCheckError } from './guest/check-running-guests.js';
export { applyCpuMode, type ApplyCpuModeOptions, type ApplyResult, type VirshCommands } from './apply/apply-cpu-mode.js';
export type { DefineWorkflowOptions } from './apply/define-workflow.js';
export { applyCpuModeToHosts, type FleetOptions, type FleetReport, type FleetSummary, type GuestResult } from './apply/fleet.js';
export { defaultBackupDir } from './apply/backup-dir.js';
export { type BackupMetadata } from './apply/backup-metadata.js';
export { restoreDefinition, type RestoreDefinitionOptions, type RestoreResult } from './apply/restore.js';
export { listBackups, type ListBackupsOptions, type BackupEntry } from './apply/list-backups.js';
export { lintText, type LintTextOptions, type LintTextResult, type SchemaValidator } from './lint/lint-text.js';
export { lintPaths, type LintPathsOptions, type LintReport, type LintNotFixed } from './lint/lint-paths.js';
export { DOMAIN_RULES, TEXT_RULES, type LintRule, type RuleContext, type RuleFinding } from './lint/rules.js';
export type { LintProblem, LintSeverity } from './lint/problem.js';
export { loadDomainSchema, DEFAULT_SCHEMA_DIR, type DomainSchema, type SchemaProblem } from './lint/schema.js';
