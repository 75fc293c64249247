import { readFileSync } from 'node:fs';
import { lintText } from '../../src/lint/lint-text.js';
import type { LintProblem } from '../../src/lint/problem.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/lint/${name}`, import.meta.url), 'utf8');
const lint = (name: string, requireMode: 'any' | 'host-model' | 'host-passthrough' = 'any') =>
  lintText(fixture(name), { file: name, requireMode }).problems.map((p: LintProblem) => [p.line, p.column, p.rule, p.severity]);

test('a good template has no problems', () => {
  expect(lint('good-host-model.xml')).toEqual([]);
});

test('cpu-missing points at <domain>', () => {
  const [problem] = lintText(fixture('cpu-missing.xml'), { file: 'cpu-missing.xml' }).problems;
  expect(problem).toEqual({
    file: 'cpu-missing.xml', line: 1, column: 1, rule: 'cpu-missing', severity: 'error',
    message: "no <cpu> element, so the guest gets the hypervisor's default CPU model, which does not pass the host's vmx/svm through; add <cpu mode='host-model' check='partial'/> (virt-nested set-cpu --file FILE --mode host-model --write)",
  });
});

test('cpu-mode points at the mode attribute', () => {
  expect(lint('cpu-mode-custom.xml')).toEqual([[8, 8, 'cpu-mode', 'error']]);
  expect(lintText(fixture('cpu-mode-custom.xml')).problems[0]?.message)
    .toBe("<cpu> has mode='custom'; nested virtualization needs 'host-model' or 'host-passthrough' (virt-nested set-cpu --file FILE --mode host-model --write)");
});

test('cpu-check points at the check attribute', () => {
  expect(lint('cpu-check-full.xml')).toEqual([[8, 26, 'cpu-check', 'error']]);
});

test('nested-feature-disabled points at each feature', () => {
  expect(lint('nested-feature-disabled.xml')).toEqual([[9, 5, 'nested-feature-disabled', 'error'], [10, 5, 'nested-feature-disabled', 'error']]);
});

test('host-passthrough is a warning, and an error under --require-mode host-model', () => {
  expect(lint('host-passthrough.xml')).toEqual([[8, 8, 'cpu-passthrough-migration', 'warning']]);
  expect(lint('host-passthrough.xml', 'host-model')).toEqual([[8, 8, 'cpu-mode', 'error'], [8, 8, 'cpu-passthrough-migration', 'warning']]);
  expect(lint('good-host-model.xml', 'host-passthrough')).toEqual([[8, 8, 'cpu-mode', 'error']]);
});

test('a comment suppresses a rule on the next line or in the whole file', () => {
  expect(lint('suppressed-next-line.xml')).toEqual([]);
  expect(lint('suppressed-file.xml')).toEqual([]);
  // the suppression names one rule only: others on that line still fire
  const text = fixture('suppressed-next-line.xml').replace("mode='host-model' check='none'", "mode='custom' check='none'");
  expect(lintText(text).problems.map((p) => p.rule)).toEqual(['cpu-mode']);
});

test('unusable XML is one problem with its position', () => {
  expect(lint('xml-malformed.xml')).toEqual([[3, 1, 'xml-malformed', 'error']]);
  expect(lint('doctype-forbidden.xml')).toEqual([[2, 1, 'doctype-forbidden', 'error']]);
  expect(lint('not-a-domain.xml')).toEqual([[1, 1, 'not-a-domain', 'error']]);
});

test('a schema validator adds its problems under the schema rule', () => {
  const schema = { validate: () => [{ line: 1, column: 1, message: 'Element domain failed to validate attributes' }] };
  expect(lintText(fixture('good-host-model.xml'), { file: 'x.xml', schema }).problems).toEqual([
    { file: 'x.xml', line: 1, column: 1, rule: 'schema', severity: 'error', message: 'Element domain failed to validate attributes' },
  ]);
});
