/** The output formats of `virt-nested lint`: compact text, JSON, GitHub Actions workflow commands. */
import type { LintProblem } from '../lint/problem.js';
import type { LintReport } from '../lint/lint-paths.js';

/**
 * `file:line:col  severity  rule  message` lines and a summary line.
 *
 * @example
 * formatText({ files: 1, problems: [], fixed: [] }) // '1 file checked, no problems\n'
 */
export function formatText(report: LintReport): string {
  let out = '';
  for (const p of report.problems) out += `${p.file}:${p.line}:${p.column}  ${p.severity}  ${p.rule}  ${p.message}\n`;
  for (const f of report.fixed) out += `${f}: fixed (<cpu> rewritten)\n`;
  const files = `${report.files} file${report.files === 1 ? '' : 's'}`;
  if (report.problems.length === 0) return `${out}${files} checked, no problems\n`;
  const errors = report.problems.filter((p) => p.severity === 'error').length;
  const warnings = report.problems.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${out}${plural(report.problems.length, 'problem')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}) in ${files}\n`;
}

/**
 * `{"files": N, "problems": [{file, line, column, rule, severity, message}]}`.
 *
 * @example
 * JSON.parse(formatJson(report)).files
 */
export function formatJson(report: LintReport): string {
  const problems = report.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, rule: p.rule, severity: p.severity, message: p.message }));
  return `${JSON.stringify({ files: report.files, problems, ...(report.fixed.length ? { fixed: report.fixed } : {}) }, null, 2)}\n`;
}

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * GitHub Actions workflow commands, one per problem: `::error file=…,line=…,col=…,title=…::message`.
 *
 * @example
 * formatGithub(report) // '::error file=web.xml,line=3,col=3,title=virt-nested cpu-check::…\n'
 */
export function formatGithub(report: LintReport): string {
  return report.problems.map((p: LintProblem) =>
    `::${p.severity} file=${escapeProperty(p.file)},line=${p.line},col=${p.column},title=${escapeProperty(`virt-nested ${p.rule}`)}::${escapeData(p.message)}\n`).join('');
}
