import { formatGithub, formatJson, formatText, printable } from '../../src/cli/lint-format.js';
import type { LintProblem } from '../../src/lint/problem.js';
import { schemaErrors } from '../helpers/json-schema.js';

const problem = (severity: 'error' | 'warning', file = 'a.xml'): LintProblem =>
  ({ file, line: 2, column: 3, rule: severity === 'error' ? 'cpu-check' : 'cpu-passthrough-migration', severity, message: 'm' });

test('printable escapes C0 and C1 controls and line and paragraph separators; the rest (a backslash, non-ASCII) stays as it is', () => {
  expect(printable('a\nb\rc\td\u0000e\u001bf\u007fg\u0085h\u009bi\u2028j\\k caf\u00e9 \u6f22')).toBe(
    'a\\nb\\rc\\td\\x00e\\x1bf\\x7fg\\x85h\\x9bi\\u2028j\\k caf\u00e9 \u6f22');
});

test('text: a file name with a newline cannot forge a line; files --fix skipped are listed with why', () => {
  const out = formatText({
    files: 2,
    problems: [problem('error', 'x.xml\n1 file checked, no problems')],
    fixed: ['b.xml'],
    notFixed: [{ file: 'c.xml', message: 'c.xml changed after it was read (another program wrote it), so it was not written; run again to edit the new content' }],
  });
  expect(out).toBe(
    'x.xml\\n1 file checked, no problems:2:3  error  cpu-check  m\n' +
    'b.xml: fixed (<cpu> rewritten)\n' +
    'c.xml: not fixed: c.xml changed after it was read (another program wrote it), so it was not written; run again to edit the new content\n' +
    '1 problem (1 error, 0 warnings) in 2 files\n');
});

test('json: schemaVersion 1, fixed and notFixed only when there are some, valid against lint.schema.json', () => {
  const plain = JSON.parse(formatJson({ files: 1, problems: [problem('error')], fixed: [], notFixed: [] })) as object;
  expect(plain).toEqual({ schemaVersion: 1, files: 1, problems: [problem('error')] });
  expect(schemaErrors('lint', plain)).toEqual([]);
  const fixing = JSON.parse(formatJson({ files: 2, problems: [], fixed: ['a.xml'], notFixed: [{ file: 'b.xml', message: 'x' }] })) as object;
  expect(fixing).toEqual({ schemaVersion: 1, files: 2, problems: [], fixed: ['a.xml'], notFixed: [{ file: 'b.xml', message: 'x' }] });
  expect(schemaErrors('lint', fixing)).toEqual([]);
});

test('github: the notice counts what GitHub hides of errors and of warnings, each past its own 10', () => {
  const report = (errors: number, warnings: number) => ({
    files: 1,
    problems: [...Array.from({ length: errors }, () => problem('error')), ...Array.from({ length: warnings }, () => problem('warning'))],
    fixed: [],
    notFixed: [],
  });
  const last = (text: string) => text.trimEnd().split('\n').at(-1);
  expect(formatGithub(report(10, 10))).not.toContain('::notice');
  expect(last(formatGithub(report(3, 14)))).toBe("::notice title=virt-nested::3 errors and 14 warnings were reported, but GitHub shows only 10 errors and 10 warnings per step, so 4 are not shown as annotations; they are all in this step's log, or run virt-nested lint --format text");
  expect(last(formatGithub(report(11, 12)))).toContain('so 3 are not shown');
  expect(formatGithub(report(11, 0)).trimEnd().split('\n')).toHaveLength(12);
});
