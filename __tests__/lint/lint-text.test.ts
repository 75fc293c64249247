import { readFileSync } from 'node:fs';
import { lintText } from '../../src/lint/lint-text.js';
import { loadDomainSchema, type DomainSchema } from '../../src/lint/schema.js';

let schema: DomainSchema;
beforeAll(async () => {
  const loaded = await loadDomainSchema();
  if (!loaded) throw new Error("libvirt's schemas are missing: .ci/run installs libvirt-clients");
  schema = loaded;
});
afterAll(() => schema.dispose());

const good = readFileSync(new URL('../../fixtures/lint/good-host-model.xml', import.meta.url), 'utf8');

test('a schema problem points at the element libxml2 blames, with its column', () => {
  const text = good.replace("<cpu mode='host-model' check='partial'/>", "<cpu mode='bogus' check='partial'/>");
  const problems = lintText(text, { file: 't.xml', schema }).problems;
  expect(problems.map((p) => [p.line, p.column, p.rule, p.message])).toEqual([
    [8, 3, 'schema', 'Extra element cpu in interleave'],
    [8, 3, 'schema', 'Element domain failed to validate content'],
    [8, 8, 'cpu-mode', "<cpu> has mode='bogus'; nested virtualization needs 'host-model' or 'host-passthrough' (virt-nested set-cpu --file FILE --mode host-model --write)"],
  ]);
});

test('a valid template has no schema problem', () => {
  expect(lintText(good, { schema }).problems).toEqual([]);
});

test('a schema problem that names a child of the blamed element is reported at that child (<vcpu>two</vcpu> at its own line, not 1:1)', () => {
  const text = good.replace('<memory', '<vcpu>two</vcpu>\n  <memory');
  const problems = lintText(text, { file: 't.xml', schema }).problems.filter((p) => p.rule === 'schema');
  const vcpuLine = text.split('\n').findIndex((line) => line.includes('<vcpu>')) + 1;
  expect(vcpuLine).toBeGreaterThan(1);
  expect(problems.map((p) => [p.line, p.column, p.message])).toEqual([
    [1, 1, 'Invalid sequence in interleave'],
    [1, 1, 'Element domain failed to validate content'],
    [vcpuLine, 3, 'Extra element vcpu in interleave'],
  ]);
});

describe('the schema rule is bounded, and says so as a problem', () => {
  const inMetadata = (content: string) => good.replace('</domain>', `  <metadata>${content}</metadata>\n</domain>`);
  const message = (what: string) =>
    `${what}, over what the schema rule validates (1 MiB, 10,000 elements, 1,000 attributes on one element), so it was not validated against libvirt's schema; domain XML is normally a few KiB (validate it with virt-xml-validate, or suppress this rule)`;

  test('256k empty elements in <metadata> are not validated: one schema-too-large problem, and the other rules still run', () => {
    const text = inMetadata(`<m:r xmlns:m='urn:x'>${'<e/>'.repeat(256_000)}</m:r>`).replace(" check='partial'", '');
    const started = performance.now();
    const problems = lintText(text, { file: 'big.xml', schema }).problems;
    expect(problems.map((p) => [p.line, p.column, p.rule, p.message])).toEqual([
      [1, 1, 'schema-too-large', message('the document has 256011 elements')],
      [8, 3, 'cpu-check', "<cpu> has no check attribute; use check='partial' so the guest starts even when the host lacks a feature a full check demands"],
    ]);
    // generous: validating it took 90 s before the bound
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test('more than 10,000 elements, or 1,000 attributes on one element, under 1 MiB', () => {
    const elements = inMetadata(`<m:r xmlns:m='urn:x'>${'<e/>'.repeat(10_001)}</m:r>`);
    expect(lintText(elements, { schema }).problems.map((p) => p.message)).toEqual([message('the document has 10012 elements')]);
    const attributes = inMetadata(`<m:r xmlns:m='urn:x'${Array.from({ length: 1_001 }, (_, i) => ` a${i}='1'`).join('')}/>`);
    expect(lintText(attributes, { schema }).problems.map((p) => p.message)).toEqual([message('an element of the document has 1002 attributes')]);
  });

  test('over 1 MiB', () => {
    const text = inMetadata(`<m:r xmlns:m='urn:x'><!-- ${'x'.repeat(1024 * 1024)} --></m:r>`);
    expect(lintText(text, { schema }).problems.map((p) => p.message)).toEqual([message(`the document is ${Buffer.byteLength(text)} bytes`)]);
  });

  test('the bound can be suppressed like any rule, and a document just under it is validated', () => {
    const under = inMetadata(`<m:r xmlns:m='urn:x'>${'<e/>'.repeat(9_000)}</m:r>`);
    expect(lintText(under, { schema }).problems).toEqual([]);
    const over = `<!-- virt-nested-disable schema-too-large -->\n${inMetadata(`<m:r xmlns:m='urn:x'>${'<e/>'.repeat(10_001)}</m:r>`)}`;
    expect(lintText(over, { schema }).problems).toEqual([]);
  });
});

describe('lint costs time linear in the input (one line index per file)', () => {
  /** Runs `work` counting the searches for a newline, which is what finding a line costs. */
  function newlineSearches<T>(work: () => T): { result: T; searches: number } {
    const original = String.prototype.indexOf;
    let searches = 0;
    const counting = function (this: string, search: string, position?: number): number {
      if (search === '\n') searches++;
      return original.call(this, search, position);
    };
    String.prototype.indexOf = counting as typeof String.prototype.indexOf;
    try {
      return { result: work(), searches };
    } finally {
      String.prototype.indexOf = original;
    }
  }

  // 13.9 s for 40k lines and 48 s for 80k before: each position rescanned the text from its start,
  // hundreds of millions of newline searches; now one per line, whatever the number of problems
  test('40k disabling <feature> lines: 40k problems at their lines, one newline search per line', () => {
    const features = Array.from({ length: 40_000 }, (_, i) => `    <feature policy='disable' name='${i % 2 ? 'vmx' : 'svm'}'/>\n`).join('');
    const text = good.replace("<cpu mode='host-model' check='partial'/>", `<cpu mode='host-model' check='partial'>\n${features}  </cpu>`);
    const lines = text.split('\n').length;
    const started = performance.now();
    const { result, searches } = newlineSearches(() => lintText(text, { file: 'f.xml' }).problems);
    expect(result).toHaveLength(40_000);
    expect(result[39_999]).toMatchObject({ line: 8 + 40_000, column: 5, rule: 'nested-feature-disabled' });
    expect(searches).toBeLessThanOrEqual(lines + 10);
    // generous: lint promises an answer within 20 s per file on a loaded machine
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  test('40k suppression comments: one newline search per line', () => {
    const comments = '<!-- virt-nested-disable-next-line cpu-check -->\n'.repeat(40_000);
    const text = good.replace("<cpu mode='host-model' check='partial'/>", `${comments}  <cpu mode='host-model'/>`);
    const lines = text.split('\n').length;
    const { result, searches } = newlineSearches(() => lintText(text, { file: 's.xml' }).problems);
    expect(result).toEqual([]);
    expect(searches).toBeLessThanOrEqual(lines + 10);
  });
});
