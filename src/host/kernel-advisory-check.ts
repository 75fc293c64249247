/**
 * The `kernel-advisory` item of a host report, and the sentence `enableHost` refuses with: the
 * judgement of `kernel-advisory.ts` said in the user's words.
 */
import { advisoryNames, fixedVersionsFor, type KernelJudgement } from './kernel-advisory.js';
import type { Check } from './report.js';

function kernelName(judgement: KernelJudgement): string {
  const { release, upstream } = judgement.kernel;
  if (release === undefined) return 'the running kernel';
  return upstream === undefined || upstream === release ? `the kernel ${release}` : `the kernel ${release} (upstream ${upstream})`;
}

/** What to upgrade to: the fix on the kernel's own branch, or a branch that has one. */
function upgradeTo(judgement: KernelJudgement): string {
  const upstream = judgement.kernel.upstream ?? '';
  const targets = [...new Set(judgement.advisories.map((advisory) => fixedVersionsFor(upstream, advisory)))].join(', ');
  return judgement.endOfLife ? `a kernel of a maintained branch with the fixes (${targets})` : `${targets} or later`;
}

function lacking(judgement: KernelJudgement): string {
  const eol = judgement.endOfLife ? `; its branch reached its end of life without them` : '';
  return `${kernelName(judgement)} lacks the fixes for ${advisoryNames(judgement.advisories)}${eol}`;
}

/**
 * The `kernel-advisory` item: `ok` for a fixed kernel (or a vulnerable one while nested is off, which
 * guests cannot reach), `problem` for a vulnerable one with nested on, `not-applicable` when the kernel
 * cannot be judged.
 *
 * @example
 * const check = kernelAdvisoryCheck(judgeKernel(files), true);
 * if (check.status === 'problem') console.log(check.fix);
 */
export function kernelAdvisoryCheck<Id extends string>(id: Id, judgement: KernelJudgement, nestedOn: boolean): Check<Id> {
  const names = advisoryNames(judgement.advisories);
  switch (judgement.verdict) {
    case 'fixed':
      return { id, status: 'ok', message: `${kernelName(judgement)} has the fixes for ${names}` };
    case 'unknown': {
      const where = judgement.kernel.distribution === undefined ? "your kernel vendor's" : `${judgement.kernel.distribution}'s`;
      return {
        id,
        status: 'not-applicable',
        message: `cannot tell whether ${kernelName(judgement)} has the fixes for ${names}, because ${judgement.reason ?? 'its version is unknown'}; look them up in ${where} security advisories`,
      };
    }
    default: {
      const impact = judgement.advisories.map((advisory) => advisory.impact).join('; ');
      if (!nestedOn) {
        return { id, status: 'ok', message: `${lacking(judgement)}, but nested virtualization is off, so guests cannot reach them; upgrade the kernel before turning it on` };
      }
      return {
        id,
        status: 'problem',
        message: `${lacking(judgement)}, and nested virtualization is on: ${impact}`,
        fix: `upgrade the kernel to ${upgradeTo(judgement)} and reboot, or turn nesting off until then: virt-nested disable-host --reload`,
      };
    }
  }
}

/**
 * The sentence `enableHost` refuses a vulnerable kernel with.
 *
 * @example
 * throw new VirtNestedError('KERNEL_VULNERABLE', vulnerableKernelRefusal(judgement, 'enable-host'));
 */
export function vulnerableKernelRefusal(judgement: KernelJudgement): string {
  const impact = judgement.advisories.map((advisory) => advisory.impact).join('; ');
  return `${lacking(judgement)} (${impact}), so enable-host changed nothing; upgrade the kernel to ${upgradeTo(judgement)} and reboot, or accept the risk with --allow-vulnerable-kernel`;
}
