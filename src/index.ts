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
export { warningsFor, disablesVirtualization, disabledVirtualizationFeatures, hostVirtualizationFlag, VIRTUALIZATION_FEATURES } from './cpu/warnings.js';
export { NESTED_POLICIES, type NestedPolicy, type HostModelCpu } from './cpu/nested.js';
export type { ApplyWarning } from './apply/plan-cpu-mode.js';
export * from './host/index.js';
export * from './virsh/index.js';
export { checkRunningGuest, type RunningGuestReport, type CheckRunningGuestOptions } from './guest/check-running-guest.js';
export { applyCpuMode, type ApplyCpuModeOptions, type ApplyResult, type VirshCommands } from './apply/apply-cpu-mode.js';
export type { DefineWorkflowOptions } from './apply/define-safely.js';
export { applyCpuModeToHosts, fleetExitCode, type FleetOptions, type FleetReport, type FleetSummary, type GuestResult } from './apply/fleet.js';
export { defaultBackupDir, type BackupMetadata } from './apply/backup.js';
export { restoreDefinition, type RestoreDefinitionOptions, type RestoreResult } from './apply/restore.js';
export { listBackups, type ListBackupsOptions, type BackupEntry } from './apply/list-backups.js';
export { lintText, type LintTextOptions, type LintTextResult, type SchemaValidator } from './lint/lint-text.js';
export { lintPaths, domainXmlFiles, type LintPathsOptions, type LintReport, type LintNotFixed } from './lint/lint-paths.js';
export { DOMAIN_RULES, TEXT_RULES, type LintRule, type RuleContext, type RuleFinding } from './lint/rules.js';
export type { LintProblem, LintSeverity } from './lint/problem.js';
export { loadDomainSchema, DEFAULT_SCHEMA_DIR, type DomainSchema, type SchemaProblem } from './lint/schema.js';
export { checkRunningGuests, runningGuestsExitCode, type CheckRunningGuestsOptions, type RunningGuestsReport, type GuestCheckError } from './guest/check-running-guests.js';
