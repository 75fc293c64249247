/**
 * The shape every check report shares (`checkHost`, `checkGuest`, `enableHost`): a list of items,
 * each ok, a problem, or not applicable, with the fix in one sentence.
 */

/**
 * How one item of a report came out. `not-applicable` also covers "could not be asked".
 *
 * @example
 * const marks: Record<CheckStatus, string> = { ok: '✓', problem: '✗', 'not-applicable': '–' };
 */
export type CheckStatus = 'ok' | 'problem' | 'not-applicable';

/**
 * One item of a report.
 *
 * @example
 * const check: Check = { id: 'nested', status: 'problem', message: "kvm_intel's nested parameter reads N", fix: 'run: virt-nested enable-host --reload' };
 */
export interface Check<Id extends string = string> {
  /** Stable identifier; callers branch on it, never on `message`. */
  readonly id: Id;
  readonly status: CheckStatus;
  /** One sentence saying what was found. */
  readonly message: string;
  /** One sentence saying what to do, when there is something to do. */
  readonly fix?: string;
}
