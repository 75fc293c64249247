/**
 * Undoing virt-nested's own define when its read-back is not what was asked: the original definition
 * goes back, but only while the definition is still the one our define made (another tool's is never
 * touched). Each way it can fail keeps its own code: libvirt's refusal is DEFINE_FAILED (exit 1), a
 * staged file that cannot be written FILE_UNWRITABLE, a virsh that is gone or timed out its own (exit 2).
 */
import { errorCodeOf, VirtNestedError } from '../errors.js';
import { virshHint } from '../virsh/hint.js';
import { stageDefinition, type StagedDefinition } from './stage-definition.js';
import { libvirtMessage, refusedByLibvirt } from './define-failure.js';
import type { SafeDefine } from './define-workflow.js';
import { readDefinition } from './plan-cpu-mode.js';

/**
 * Puts `original` back after our own define gave `ours`, a definition that is not what was asked, but
 * only while the definition is still `ours`. Always throws: GUEST_CHANGED when another tool has changed
 * it since, VERIFY_FAILED once the original is back, else the code of what kept it from going back.
 *
 * @example
 * await rollback(plan, readBack); // throws VERIFY_FAILED: "…; the original was restored from BACKUP"
 */
export async function rollback(plan: SafeDefine, ours: string): Promise<never> {
  const { session, guest, original, backup } = plan;
  const unwanted = plan.describeUnwanted(ours);
  const restoreBy = `its original definition is in ${backup}: ${virshHint(session.uri, 'define', { args: ['--file', backup] })}`;
  await plan.hooks.beforeRollback?.();
  let staged: StagedDefinition;
  try {
    staged = await stageDefinition(plan.stagingDir, original);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
    throw new VirtNestedError('FILE_UNWRITABLE', `after define, ${unwanted}, and restoring guest "${guest}" failed: its original definition could not be written to a file in ${plan.stagingDir} (${reason}); ${restoreBy}`, { cause: error });
  }
  try {
    let now: string;
    try {
      now = await readDefinition(session, guest);
    } catch (error) {
      throw new VirtNestedError(errorCodeOf(error), `after define, ${unwanted}, and restoring guest "${guest}" failed: its definition could not be read again (${libvirtMessage(error)}); ${restoreBy}`, { cause: error });
    }
    if (now !== ours) {
      throw new VirtNestedError('GUEST_CHANGED',
        `after define, ${unwanted}, and another tool has changed it since: it is left as that tool defined it (the definition before: ${backup})`);
    }
    try {
      await session.define(staged.file, { validate: true });
    } catch (error) {
      if (refusedByLibvirt(error)) {
        throw new VirtNestedError('DEFINE_FAILED', `restoring guest "${guest}" failed (${libvirtMessage(error)}); ${restoreBy}`, { cause: error });
      }
      throw new VirtNestedError(errorCodeOf(error), `after define, ${unwanted}, and restoring guest "${guest}" did not finish (${libvirtMessage(error)}); libvirt may or may not have taken it back: ${restoreBy}`, { cause: error });
    }
  } finally {
    await staged.remove();
  }
  throw new VirtNestedError('VERIFY_FAILED', `after define, ${unwanted}; the original was restored from ${backup}`);
}
