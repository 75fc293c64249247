/**
 * The items of an `enableHost`/`disableHost` result, said in the user's words: what became of
 * kvm.conf, of each conflicting setting, and of the reload. Pure: a plan and what was read after it.
 */
import { describeSetting, editablePathFor, KERNEL_CMDLINE_PATH, KVM_CONF_PATH, type PersistentNested } from './modprobe-config.js';
import { nestedReadsAsAsked, type ModprobeConflict, type NestedDirection, type NestedPlan, type PlannedCommand, type ReloadOutcome } from './nested-plan.js';
import type { Check } from './report.js';

/**
 * The items of an `enableHost`/`disableHost` result, in the order they are listed: `kernel-advisory`
 * (enable-host only), `kvm-conf`, one `conflict` per overriding setting, `reload`.
 *
 * @example
 * const left = result.checks.filter((check) => check.id === ('conflict' satisfies HostChangeCheckId) && check.status === 'problem');
 */
export type HostChangeCheckId = 'kernel-advisory' | 'kvm-conf' | 'conflict' | 'reload';

const words = (direction: NestedDirection) =>
  direction === 'on'
    ? { command: 'enable-host', value: 'nested=1', state: 'on', undo: 'off' }
    : { command: 'disable-host', value: 'nested=0', state: 'off', undo: 'on' };

function given(setting: ModprobeConflict): string {
  return setting.value === undefined ? setting.name : `${setting.name}=${setting.value}`;
}

function kvmConfCheck(plan: NestedPlan, dryRun: boolean): Check<HostChangeCheckId> {
  const id = 'kvm-conf';
  const { value, state } = words(plan.direction);
  if (!plan.changes.some((change) => change.path === KVM_CONF_PATH)) {
    return { id, status: 'ok', message: `${KVM_CONF_PATH} already turns nested ${state} for ${plan.module}` };
  }
  const verb = plan.kvmConfBefore === undefined ? 'create' : 'update';
  return dryRun
    ? { id, status: 'not-applicable', message: `would ${verb} ${KVM_CONF_PATH} to set ${value} for ${plan.module}` }
    : { id, status: 'ok', message: `${verb}d ${KVM_CONF_PATH}, which sets ${value} for ${plan.module}` };
}

function conflictCheck(conflict: ModprobeConflict, plan: NestedPlan, dryRun: boolean): Check<HostChangeCheckId> {
  const id = 'conflict';
  const { command, undo } = words(plan.direction);
  const where = describeSetting(conflict);
  if (!conflict.fixable) {
    return {
      id,
      status: 'problem',
      message: `the kernel command line sets ${conflict.text}, which overrides every modprobe.d file`,
      fix: `remove ${conflict.text} from the kernel command line and reboot`,
    };
  }
  if (!conflict.fixed) {
    return {
      id,
      status: 'problem',
      message: `${where} sets ${given(conflict)} for ${plan.module} after ${KVM_CONF_PATH}, so nested stays ${undo} at the next load`,
      fix: `run: virt-nested ${command} --fix-conflicts`,
    };
  }
  const target = editablePathFor(conflict.path);
  const what = `${given(conflict)} for ${plan.module} in ${where}`;
  if (dryRun) {
    return target === conflict.path
      ? { id, status: 'not-applicable', message: `would comment out ${what}, which overrides ${KVM_CONF_PATH}` }
      : { id, status: 'not-applicable', message: `would hide ${what}, which overrides ${KVM_CONF_PATH}, behind ${target}, a copy without it` };
  }
  return target === conflict.path
    ? { id, status: 'ok', message: `commented out ${what}, which overrode ${KVM_CONF_PATH}` }
    : { id, status: 'ok', message: `hid ${what}, which overrode ${KVM_CONF_PATH}, behind ${target}, a copy without it` };
}

function verdictFix(persistent: PersistentNested, command: string): string {
  return persistent.source?.path === KERNEL_CMDLINE_PATH
    ? `remove ${persistent.source.text} from the kernel command line and reboot`
    : `run: virt-nested ${command} --fix-conflicts`;
}

function describeCommands(commands: readonly PlannedCommand[]): string {
  return commands.map((c) => [c.file, ...c.args].join(' ')).join(', then ');
}

function reloadCheck(plan: NestedPlan, reload: ReloadOutcome, loaded: boolean, nested: string | undefined): Check<HostChangeCheckId> {
  const id = 'reload';
  const { module, persistent, direction } = plan;
  const { command, value, undo } = words(direction);
  const asAsked = nestedReadsAsAsked(direction, nested);
  switch (reload) {
    case 'not-needed':
      return loaded
        ? { id, status: 'ok', message: `${module}'s nested parameter already reads ${nested ?? ''}, so no reload was needed` }
        : { id, status: 'ok', message: `${module} is not loaded, so no reload was needed: ${value} applies when it loads` };
    case 'skipped':
      return {
        id,
        status: 'problem',
        message: `${module} was not reloaded, because ${persistent.source ? describeSetting(persistent.source) : 'another setting'} would still turn nested ${undo}`,
        fix: verdictFix(persistent, command),
      };
    case 'planned':
      return { id, status: 'not-applicable', message: `would reload ${module}: ${describeCommands(plan.commands)}` };
    case 'done':
      return asAsked
        ? { id, status: 'ok', message: `reloaded ${module}, and its nested parameter reads ${nested ?? ''}` }
        : { id, status: 'problem', message: `reloaded ${module}, but its nested parameter reads ${nested ?? 'nothing'}`, fix: 'look for why in the kernel log: dmesg | grep -i kvm' };
    default:
      if (loaded && asAsked) return { id, status: 'ok', message: `${module}'s nested parameter already reads ${nested ?? ''}` };
      return {
        id,
        status: 'not-applicable',
        message: loaded ? `${module} was not reloaded, so ${value} applies at its next load` : `${module} is not loaded, so ${value} applies when it loads`,
        fix: `run: virt-nested ${command} --reload`,
      };
  }
}

/**
 * The items for a plan carried out (or, in a dry run, planned): kvm.conf, the conflicts, the reload.
 *
 * @example
 * const checks = changeChecks(plan, { dryRun: false, reload: 'done', loaded: true, nested: 'Y' });
 */
export function changeChecks(
  plan: NestedPlan,
  after: { readonly dryRun: boolean; readonly reload: ReloadOutcome; readonly loaded: boolean; readonly nested: string | undefined },
): Array<Check<HostChangeCheckId>> {
  return [
    kvmConfCheck(plan, after.dryRun),
    ...plan.conflicts.map((conflict) => conflictCheck(conflict, plan, after.dryRun)),
    reloadCheck(plan, after.reload, after.loaded, after.nested),
  ];
}
