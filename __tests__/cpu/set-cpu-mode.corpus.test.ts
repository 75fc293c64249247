/**
 * setCpuMode over libvirt's own test corpus (486 `virsh dumpxml`-style files): the edit touches only
 * the top-level <cpu>, is idempotent, leaves its argument alone, and inserts <cpu> exactly where
 * libvirt itself writes it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { documentOf } from '../../src/domain/document-of.js';
import { parseDomain } from '../../src/domain/parse-domain.js';
import { serializeDomain } from '../../src/domain/serialize-domain.js';
import type { CpuMode, Domain } from '../../src/domain/types.js';
import { setCpuMode } from '../../src/cpu/set-cpu-mode.js';

/** Every field of the model, read through its getters (a Domain need not keep them as own properties). */
const FIELDS = ['type', 'name', 'uuid', 'title', 'description', 'memory', 'currentMemory', 'vcpu', 'os', 'features', 'cpu', 'devices', 'warnings'] as const;
const modelOf = (domain: Domain): Record<string, unknown> => Object.fromEntries(FIELDS.map((f) => [f, domain[f]]));

const CORPUS = fileURLToPath(new URL('../../fixtures/libvirt-9.0.0/domains/', import.meta.url));
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.xml')).sort();
const texts = new Map(files.map((f) => [f, readFileSync(CORPUS + f, 'utf8')]));

/** The offsets of the top-level <cpu> of `domain`, and where the whitespace before it begins. */
function cpuSpan(domain: Domain): { lead: number; start: number; end: number } | undefined {
  const { source, root } = documentOf(domain);
  const cpu = root.children.find((c) => c.name === 'cpu');
  if (!cpu) return undefined;
  let lead = cpu.start;
  while (lead > 0 && ' \t\r\n'.includes(source[lead - 1] as string)) lead--;
  return { lead, start: cpu.start, end: cpu.end };
}

test('the corpus has 486 files, 182 of them with a top-level <cpu>', () => {
  expect(files).toHaveLength(486);
  expect(files.filter((f) => cpuSpan(parseDomain(texts.get(f)!)) !== undefined)).toHaveLength(182);
});

describe.each<CpuMode>(['host-model', 'host-passthrough'])('%s over the corpus', (mode) => {
  test('sets mode and check, only inside the <cpu> span, idempotently, without changing the argument', () => {
    const problems: string[] = [];
    let edited = 0;
    let inserted = 0;
    for (const file of files) {
      const input = texts.get(file)!;
      const original = parseDomain(input);
      const before = cpuSpan(original);
      const next = setCpuMode(original, mode);
      const output = serializeDomain(next);
      const after = cpuSpan(next);

      const reparsed = parseDomain(output);
      if (reparsed.cpu?.mode !== mode || reparsed.cpu.check !== 'partial') problems.push(`${file}: mode/check not set`);
      if (reparsed.cpu?.match !== undefined || reparsed.cpu?.model !== undefined || reparsed.cpu?.vendor !== undefined) {
        problems.push(`${file}: match/model/vendor kept`);
      }
      if (JSON.stringify(reparsed.cpu?.features ?? []) !== JSON.stringify(original.cpu?.features ?? [])) problems.push(`${file}: features changed`);
      if (JSON.stringify(reparsed.cpu?.topology) !== JSON.stringify(original.cpu?.topology)) problems.push(`${file}: topology changed`);
      // libvirt allows migratable only for host-passthrough (and maximum)
      if (reparsed.cpu?.migratable !== (mode === 'host-passthrough' ? original.cpu?.migratable : undefined)) problems.push(`${file}: migratable wrong`);
      if (JSON.stringify({ ...modelOf(reparsed), cpu: null }) !== JSON.stringify({ ...modelOf(original), cpu: null })) problems.push(`${file}: the model outside cpu changed`);

      if (!after) {
        problems.push(`${file}: no <cpu> in the result`);
      } else if (before) {
        edited++;
        if (output.slice(0, after.start) !== input.slice(0, before.start)) problems.push(`${file}: bytes before <cpu> changed`);
        if (output.slice(after.end) !== input.slice(before.end)) problems.push(`${file}: bytes after <cpu> changed`);
      } else {
        inserted++;
        // taking the new <cpu> out again, with the whitespace written before it, gives back the input
        if (output.slice(0, after.lead) + output.slice(after.end) !== input) problems.push(`${file}: bytes outside the new <cpu> changed`);
      }

      if (serializeDomain(setCpuMode(next, mode)) !== output) problems.push(`${file}: not idempotent`);
      if (serializeDomain(original) !== input) problems.push(`${file}: the argument's text changed`);
      if (original.cpu?.mode !== parseDomain(input).cpu?.mode) problems.push(`${file}: the argument's model changed`);
    }
    expect(problems).toEqual([]);
    expect({ edited, inserted }).toEqual({ edited: 182, inserted: 304 });
  });
});

test('switching modes changes only the mode value (and migratable, which host-model does not allow)', () => {
  const problems: string[] = [];
  for (const file of files) {
    const domain = parseDomain(texts.get(file)!);
    const passthrough = serializeDomain(setCpuMode(domain, 'host-passthrough'));
    const model = serializeDomain(setCpuMode(domain, 'host-model'));
    const expected = passthrough.replace("mode='host-passthrough' check='partial'", "mode='host-model' check='partial'").replace(/ migratable='(on|off)'/, '');
    if (expected !== model) problems.push(file);
    if (serializeDomain(setCpuMode(parseDomain(passthrough), 'host-model')) !== model) problems.push(file);
  }
  expect(problems).toEqual([]);
});

test('placement agrees with libvirt: a removed <cpu> comes back where libvirt wrote it, for all 182', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const file of files) {
    const input = texts.get(file)!;
    const span = cpuSpan(parseDomain(input));
    if (!span) continue;
    checked++;
    const without = input.slice(0, span.lead) + input.slice(span.end);
    const output = serializeDomain(setCpuMode(parseDomain(without), 'host-model'));
    const expected = input.slice(0, span.start) + "<cpu mode='host-model' check='partial'/>" + input.slice(span.end);
    if (output !== expected) problems.push(file);
  }
  expect(problems).toEqual([]);
  expect(checked).toBe(182);
});
