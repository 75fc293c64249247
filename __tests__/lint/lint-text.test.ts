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
