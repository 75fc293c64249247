/** How bad a lint problem is: errors fail the build, warnings are printed. */
export type LintSeverity = 'error' | 'warning';

/** One problem in one file, at a 1-based line and column. The shape `lint --format json` prints. */
export interface LintProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly rule: string;
  readonly severity: LintSeverity;
  readonly message: string;
}
