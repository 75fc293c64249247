/** The output formats of `virt-nested lint`: compact text, JSON, GitHub Actions workflow commands, SARIF 2.1.0. */
import { isAbsolute, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LintProblem } from '../lint/problem.js';
import type { LintReport } from '../lint/lint-paths.js';
import { DOMAIN_RULES, TEXT_RULES } from '../lint/rules.js';

/**
 * A file name or message as one printable line: control characters (a newline from `&#10;` in an
 * attribute value, an escape sequence, a carriage return) are written as escapes, so that a template
 * can never forge lines of the report or drive the terminal.
 *
 * @example
 * printable('a\nb') // 'a\\nb'
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/**
 * `file:line:col  severity  rule  message` lines and a summary line; control characters escaped.
 *
 * @example
 * formatText({ files: 1, problems: [], fixed: [], notFixed: [] }) // '1 file checked, no problems\n'
 */
export function formatText(report: LintReport): string {
  let out = '';
  for (const p of report.problems) out += `${printable(p.file)}:${p.line}:${p.column}  ${p.severity}  ${p.rule}  ${printable(p.message)}\n`;
  for (const f of report.fixed) out += `${printable(f)}: fixed (<cpu> rewritten)\n`;
  for (const f of report.notFixed) out += `${printable(f.file)}: not fixed: ${printable(f.message)}\n`;
  const files = `${report.files} file${report.files === 1 ? '' : 's'}`;
  if (report.problems.length === 0) return `${out}${files} checked, no problems\n`;
  const errors = report.problems.filter((p) => p.severity === 'error').length;
  const warnings = report.problems.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${out}${plural(report.problems.length, 'problem')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}) in ${files}\n`;
}

/**
 * `{"schemaVersion": 1, "files": N, "problems": [{file, line, column, rule, severity, message}]}`
 * (`schemas/lint.schema.json`), with `fixed` and `notFixed` when `--fix` wrote or skipped files.
 *
 * @example
 * JSON.parse(formatJson(report)).files
 */
export function formatJson(report: LintReport): string {
  const problems = report.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, rule: p.rule, severity: p.severity, message: p.message }));
  return `${JSON.stringify({
    schemaVersion: 1,
    files: report.files,
    problems,
    ...(report.fixed.length ? { fixed: report.fixed } : {}),
    ...(report.notFixed.length ? { notFixed: report.notFixed } : {}),
  }, null, 2)}\n`;
}

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * How many annotations of each kind GitHub shows for one step; it drops the rest without a word.
 *
 * @example
 * errors > GITHUB_ANNOTATION_LIMIT // some errors are not shown as annotations
 */
export const GITHUB_ANNOTATION_LIMIT = 10;

/**
 * GitHub Actions workflow commands, one per problem: `::error file=…,line=…,col=…,title=…::message`.
 * GitHub shows only 10 errors and 10 warnings per step, so when there are more, a last `::notice`
 * says how many and how to see them all.
 *
 * @example
 * formatGithub(report) // '::error file=web.xml,line=3,col=3,title=virt-nested cpu-check::…\n'
 */
export function formatGithub(report: LintReport): string {
  const lines = report.problems.map((p: LintProblem) =>
    `::${p.severity} file=${escapeProperty(p.file)},line=${p.line},col=${p.column},title=${escapeProperty(`virt-nested ${p.rule}`)}::${escapeData(p.message)}\n`);
  const errors = report.problems.filter((p) => p.severity === 'error').length;
  const warnings = report.problems.length - errors;
  if (errors > GITHUB_ANNOTATION_LIMIT || warnings > GITHUB_ANNOTATION_LIMIT) {
    const hidden = Math.max(0, errors - GITHUB_ANNOTATION_LIMIT) + Math.max(0, warnings - GITHUB_ANNOTATION_LIMIT);
    lines.push(`::notice title=virt-nested::${escapeData(`${errors} errors and ${warnings} warnings were reported, but GitHub shows only ${GITHUB_ANNOTATION_LIMIT} errors and ${GITHUB_ANNOTATION_LIMIT} warnings per step, so ${hidden} are not shown as annotations; they are all in this step's log, or run virt-nested lint --format text`)}\n`);
  }
  return lines.join('');
}

/** Where a file is, as a SARIF artifact URI: relative paths stay relative (to the checkout), with `/`. */
function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href;
  return file.split(sep).map(encodeURIComponent).join('/');
}

/**
 * A SARIF 2.1.0 log (for GitHub code scanning and other SARIF viewers): one run of the tool
 * `virt-nested` with every rule (id, description, help) and one result per problem, with its rule,
 * level, message, file URI and region.
 *
 * @example
 * JSON.parse(formatSarif(report, '0.1.0')).runs[0].tool.driver.name // 'virt-nested'
 */
export function formatSarif(report: LintReport, version: string): string {
  const rules = [...TEXT_RULES, ...DOMAIN_RULES];
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  const log = {
    $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'virt-nested',
          version,
          rules: rules.map((rule) => ({
            id: rule.id,
            shortDescription: { text: rule.description },
            help: {
              text: `${rule.description}. See docs/lint-rules.md#${rule.id} in virt-nested for examples and the fix.`,
              markdown: `${rule.description}. See [${rule.id}](docs/lint-rules.md#${rule.id}) for examples and the fix.`,
            },
            defaultConfiguration: { level: rule.severity },
          })),
        },
      },
      columnKind: 'utf16CodeUnits',
      results: report.problems.map((p) => ({
        ruleId: p.rule,
        ...(index.has(p.rule) ? { ruleIndex: index.get(p.rule) } : {}),
        level: p.severity,
        message: { text: p.message },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: artifactUri(p.file) },
            region: { startLine: p.line, startColumn: p.column },
          },
        }],
      })),
    }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
