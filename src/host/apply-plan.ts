/**
 * The one step of the host commands that changes the machine: writes a {@link NestedPlan}'s files
 * (all or none) and runs its commands. Everything before it is read or pure.
 */
import { VirtNestedError } from '../errors.js';
import { lastMessage, listRunningGuests } from '../virsh/host-commands.js';
import type { HostFs } from './host-fs.js';
import { KVM_CONF_PATH } from './modprobe-config.js';
import { inUseRefusal } from './module-users.js';
import type { FileChange, NestedPlan, PlannedCommand } from './nested-plan.js';
import type { CommandRunner } from './run-command.js';

/**
 * What {@link applyPlan} changes the machine through.
 *
 * @example
 * const effects: HostEffects = { fs: createHostFs('/'), run: runCommand, uri: 'qemu:///system' };
 */
export interface HostEffects {
  readonly fs: HostFs;
  /** Runs modprobe, and virsh to name guests when the module is in use. */
  readonly run: CommandRunner;
  /** The libvirt URI asked to name guests. */
  readonly uri: string;
}

/** `a`, `a and b`, `a, b and c`. */
function listOf(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function commandOf(plan: NestedPlan): string {
  return plan.direction === 'on' ? 'enable-host' : 'disable-host';
}

function valueOf(plan: NestedPlan): string {
  return plan.direction === 'on' ? 'nested=1' : 'nested=0';
}

/**
 * Carries out `plan`: writes every change or none (when one cannot be written, those written before
 * it get their old bytes back, or are removed again), then runs its commands in order. A command
 * that fails after the files were written leaves them written, and its error names them.
 *
 * @example
 * await applyPlan(planNested(state, 'kvm_amd', { direction: 'off', reload: true }), { fs, run: runCommand, uri: 'qemu:///system' });
 */
export async function applyPlan(plan: NestedPlan, effects: HostEffects): Promise<void> {
  await writeChanges(plan, effects.fs);
  const written = plan.changes.map((change) => change.path);
  for (const command of plan.commands) await runModprobe(plan, command, effects, written);
}

async function writeChanges(plan: NestedPlan, fs: HostFs): Promise<void> {
  const written: FileChange[] = [];
  for (const change of plan.changes) {
    try {
      await fs.write(change.target, change.after, change.mode);
    } catch (error) {
      const restored: string[] = [];
      const kept: string[] = [];
      for (const done of [...written].reverse()) {
        try {
          if (done.before === null) await fs.remove(done.target);
          else await fs.write(done.target, done.before, done.mode);
          restored.unshift(done.path);
        } catch (undoError) {
          kept.unshift(`${done.path} (${reasonOf(undoError)})`);
        }
      }
      const cannot = `cannot write ${change.target === change.path ? change.path : `${change.path} (through its link, ${change.target})`} (${reasonOf(error)})`;
      const directory = change.target.slice(0, change.target.lastIndexOf('/')) || '/';
      const then = `make ${directory} writable and run ${commandOf(plan)} again`;
      let message: string;
      if (kept.length > 0) {
        message = `${cannot}, and putting back what was written before it failed for ${listOf(kept)}, which ${kept.length === 1 ? 'keeps its' : 'keep their'} new bytes; ${then}`;
      } else if (restored.length > 0) {
        message = `${cannot}, so nothing was changed: ${listOf(restored)}, written before it, ${restored.length === 1 ? 'was put back as it was' : 'were put back as they were'}; ${then}`;
      } else {
        message = `${cannot}, so it was left as it was; ${then}`;
      }
      throw new VirtNestedError('FILE_UNWRITABLE', message, { cause: error });
    }
    written.push(change);
  }
}

/** `, but FILE was already written and stays, …` for an error after `written` were written; empty when none was. */
function writtenNote(plan: NestedPlan, written: readonly string[]): string {
  if (written.length === 0) return '';
  const verb = written.length === 1 ? 'was already written and stays' : 'were already written and stay';
  return `, but ${listOf(written)} ${verb}, so ${valueOf(plan)} applies at its next load`;
}

async function runModprobe(plan: NestedPlan, command: PlannedCommand, effects: HostEffects, written: readonly string[]): Promise<void> {
  const { module } = plan;
  const result = await effects.run(command.file, command.args, { timeout: 120_000 });
  if (result.exitCode === 0) return;
  const why = lastMessage(result.stderr) || `exit code ${result.exitCode}`;
  const note = writtenNote(plan, written);
  if (command.args[0] === '-r') {
    if (/in use/i.test(result.stderr)) {
      // The kernel said no after we read its use count (or gave none): name what libvirt knows.
      const verb = written.length === 1 ? 'was already written and stays' : 'were already written and stay';
      const outcome = written.length === 0 ? 'nothing was changed' : `${listOf(written)} ${verb}, so ${valueOf(plan)} applies at its next load`;
      throw inUseRefusal(module, undefined, await listRunningGuests(effects.run, effects.uri), effects.uri, outcome, why);
    }
    throw new VirtNestedError('HOST_UNSUPPORTED', `modprobe -r ${module} failed (${why}), so ${module} was not reloaded${note || `; ${KVM_CONF_PATH} sets ${valueOf(plan)} for its next load`}`);
  }
  throw new VirtNestedError('HOST_UNSUPPORTED', `modprobe ${module} failed (${why}), so ${module} is not loaded now${note}; load it by hand with: modprobe ${module}`);
}
