/**
 * Property tests of the lossless layer and of setCpuMode on random domain documents: random
 * indentation (spaces, tabs, none), newline (LF/CRLF), quote per attribute, spaces around '=',
 * BOM, declaration, comments, child order around <cpu>, and a present or absent <cpu> with random
 * attributes and children.
 */
import fc, { type GeneratorValue } from 'fast-check';
import { documentOf } from '../../src/domain/document-of.js';
import { parseDomain } from '../../src/domain/parse-domain.js';
import { serializeDomain } from '../../src/domain/serialize-domain.js';
import type { CpuMode, Domain } from '../../src/domain/types.js';
import { setCpuMode } from '../../src/cpu/set-cpu-mode.js';
import { escapeAttribute } from '../../src/xml/entities.js';

type Quote = "'" | '"';

/** What a generated document is made of, to know where setCpuMode must put a new <cpu>. */
interface Generated {
  readonly text: string;
  readonly newline: '\n' | '\r\n';
  /** One level of indentation; '' for a document written on one line. */
  readonly indent: string;
  /** The quote every attribute uses, or undefined when they are mixed. */
  readonly quote: Quote | undefined;
  /** The root's children in order ('cpu' included when present; comments left out). */
  readonly children: readonly string[];
}

/** Every field of the model, read through its getters (a Domain need not keep them as own properties). */
const FIELDS = ['type', 'name', 'uuid', 'title', 'description', 'memory', 'currentMemory', 'vcpu', 'os', 'features', 'cpu', 'devices', 'warnings'] as const;
const modelOf = (domain: Domain): Record<string, unknown> => Object.fromEntries(FIELDS.map((f) => [f, domain[f]]));

const AROUND_CPU = ['name', 'memory', 'vcpu', 'os', 'features', 'clock', 'on_poweroff', 'devices', 'metadata'];

function generateDomain(g: GeneratorValue): Generated {
  const newline = g(fc.constantFrom<('\n' | '\r\n')[]>, '\n', '\r\n');
  const indent = g(fc.constantFrom, '', ' ', '  ', '    ', '\t', '\t\t');
  const quoteMode = g(fc.constantFrom<(Quote | 'mixed')[]>, "'", '"', 'mixed');
  const nl = (depth: number) => (indent === '' ? '' : newline + indent.repeat(depth));
  const quote = (): Quote => (quoteMode === 'mixed' ? g(fc.constantFrom<Quote[]>, "'", '"') : quoteMode);
  const eq = () => g(fc.constantFrom, '=', '=', '=', ' = ', ' =', '= ', '\t=\t', `${newline}=`);
  const attr = (name: string, value: string) => {
    const q = quote();
    return ` ${name}${eq()}${q}${escapeAttribute(value, q)}${q}`;
  };
  const close = () => g(fc.constantFrom, '', '', ' ');
  const empty = (name: string, attrs: string) => (g(fc.boolean) ? `<${name}${attrs}${close()}/>` : `<${name}${attrs}${close()}></${name}>`);
  const comment = () => `<!-- ${g(fc.string, { unit: fc.constantFrom('a', 'b', ' ', '<', '>', '&', '-'), maxLength: 12 }).replace(/-+/g, '-').replace(/-$/, '')} -->`;
  const block = (name: string, attrs: string, inner: readonly string[], depth: number) =>
    (inner.length === 0 ? empty(name, attrs) : `<${name}${attrs}>${inner.map((c) => nl(depth + 1) + c).join('')}${nl(depth)}</${name}>`);

  const render: Record<string, () => string> = {
    name: () => `<name>${g(fc.stringMatching, /^[a-z][a-z0-9-]{0,8}$/)}</name>`,
    memory: () => `<memory${g(fc.boolean) ? attr('unit', g(fc.constantFrom, 'KiB', 'MiB', 'GiB', 'b')) : ''}>${g(fc.integer, { min: 1, max: 1 << 24 })}</memory>`,
    vcpu: () => `<vcpu${attr('placement', 'static')}>${g(fc.integer, { min: 1, max: 64 })}</vcpu>`,
    os: () => block('os', g(fc.boolean) ? attr('firmware', 'efi') : '', [
      `<type${attr('arch', g(fc.constantFrom, 'x86_64', 'i686', 'aarch64'))}${attr('machine', 'q35')}>hvm</type>`,
      ...(g(fc.boolean) ? [empty('boot', attr('dev', 'hd'))] : []),
    ], 1),
    features: () => block('features', '', g(fc.subarray, [empty('acpi', ''), empty('apic', ''), `<vmport${attr('state', 'off')}/>`]), 1),
    clock: () => empty('clock', attr('offset', 'utc')),
    on_poweroff: () => '<on_poweroff>destroy</on_poweroff>',
    devices: () => block('devices', '', g(fc.subarray, [
      block('disk', attr('type', 'file') + attr('device', 'disk'), [empty('source', attr('file', "/var/lib/it's & <x>.qcow2")), empty('target', attr('dev', 'vda'))], 2),
      empty('graphics', attr('type', 'vnc') + attr('passwd', `p"a'ss`)),
    ]), 1),
    // a <cpu> that is not the domain's: under a foreign namespace inside <metadata>
    metadata: () => block('metadata', '', [
      block(`app:info`, attr('xmlns:app', 'urn:example:app'), [
        block('cpu', attr('xmlns', 'urn:example:inventory') + attr('mode', 'custom') + attr('match', 'exact'), ['<model>Skylake</model>'], 3),
      ], 2),
    ], 1),
    cpu: () => {
      const attributes = g(fc.shuffledSubarray, [
        ['mode', g(fc.constantFrom, 'custom', 'host-model', 'host-passthrough', 'maximum')],
        ['match', g(fc.constantFrom, 'exact', 'minimum', 'strict')],
        ['check', g(fc.constantFrom, 'none', 'partial', 'full')],
        ['migratable', g(fc.constantFrom, 'on', 'off')],
      ] as [string, string][], {});
      const inner = g(fc.shuffledSubarray, [
        `<model${g(fc.boolean) ? attr('fallback', 'allow') : ''}>${g(fc.constantFrom, 'Skylake-Client', 'EPYC', 'qemu64')}</model>`,
        `<vendor>${g(fc.constantFrom, 'Intel', 'AMD')}</vendor>`,
        empty('topology', attr('sockets', '1') + attr('cores', '2') + attr('threads', '1')),
        empty('feature', attr('policy', g(fc.constantFrom, 'require', 'disable', 'forbid')) + attr('name', g(fc.constantFrom, 'vmx', 'svm', 'x2apic'))),
        empty('cache', attr('mode', 'passthrough')),
        comment(),
      ], {});
      return block('cpu', attributes.map(([n, v]) => attr(n, v)).join(''), inner, 1);
    },
  };

  const children = [...g(fc.shuffledSubarray, AROUND_CPU, {})];
  if (g(fc.boolean)) children.splice(g(fc.integer, { min: 0, max: children.length }), 0, 'cpu');
  let body = '';
  for (const child of children) {
    if (g(fc.integer, { min: 0, max: 5 }) === 0) body += nl(1) + comment();
    body += nl(1) + render[child]!();
  }
  const rootAttributes = attr('type', g(fc.constantFrom, 'kvm', 'qemu'));
  const root = body === '' && g(fc.boolean) ? `<domain${rootAttributes}${close()}/>` : `<domain${rootAttributes}>${body}${nl(0)}</domain>`;
  const prolog = (g(fc.boolean) ? '\uFEFF' : '')
    + (g(fc.boolean) ? `<?xml${attr('version', '1.0')}${attr('encoding', 'UTF-8')}?>${newline}` : '')
    + (g(fc.boolean) ? comment() + newline : '');
  const epilog = g(fc.constantFrom, '', newline, newline + comment() + newline);
  return { text: prolog + root + epilog, newline, indent, quote: quoteMode === 'mixed' ? undefined : quoteMode, children };
}

const documents = fc.gen().map(generateDomain);

function cpuOf(domain: Domain) {
  return documentOf(domain).root.children.find((c) => c.name === 'cpu');
}

/** Where the whitespace run that ends at `offset` starts. */
function whitespaceStart(source: string, offset: number): number {
  let i = offset;
  while (i > 0 && ' \t\r\n'.includes(source[i - 1] as string)) i--;
  return i;
}

/** Bounded: 300 documents, and never more than 20 s (shrinking a generated document can take long). */
const RUNS = { numRuns: 300, interruptAfterTimeLimit: 20_000 };

test('random documents come back byte for byte', () => {
  fc.assert(fc.property(documents, ({ text }) => {
    expect(serializeDomain(parseDomain(text))).toBe(text);
  }), RUNS);
});

test.each<CpuMode>(['host-model', 'host-passthrough'])('%s changes only the <cpu> span, is idempotent, re-parses with mode and check set', (mode) => {
  fc.assert(fc.property(documents, ({ text, newline, indent, quote, children }) => {
    const original = parseDomain(text);
    const before = cpuOf(original);
    const next = setCpuMode(original, mode);
    const output = serializeDomain(next);
    const after = cpuOf(next);
    expect(after).toBeDefined();
    if (!after) return;

    if (before) {
      expect(output.slice(0, after.start)).toBe(text.slice(0, before.start));
      expect(output.slice(after.end)).toBe(text.slice(before.end));
    } else if (documentOf(original).root.selfClosing) {
      // <domain …/> opens up: <domain …><cpu …/></domain>
      const root = documentOf(original).root;
      const cpuText = output.slice(after.start, after.end);
      expect(output).toBe(`${text.slice(0, whitespaceStart(text, root.tagClose))}>${cpuText}</domain>${text.slice(root.end)}`);
    } else {
      const lead = whitespaceStart(output, after.start);
      expect(output.slice(0, lead) + output.slice(after.end)).toBe(text);
      // in the document's own newline and indentation (a childless root gives no indentation to copy)
      if (children.length > 0) expect(output.slice(lead, after.start)).toBe(indent === '' ? '' : newline + indent);
      // where libvirt writes it
      const names = documentOf(next).root.children.map((c) => c.name);
      const at = names.indexOf('cpu');
      const lastBefore = children.filter((c) => c === 'os' || c === 'features').pop();
      const firstAfter = children.find((c) => ['clock', 'on_poweroff', 'devices'].includes(c));
      if (lastBefore) expect(names[at - 1]).toBe(lastBefore);
      else if (firstAfter) expect(names[at + 1]).toBe(firstAfter);
      else expect(at).toBe(names.length - 1);
    }
    if (quote) expect(after.attributes.map((a) => a.quote)).toEqual(after.attributes.map(() => quote));
    if (newline === '\r\n') expect(output).not.toMatch(/(^|[^\r])\n/);

    expect(serializeDomain(setCpuMode(next, mode))).toBe(output);
    expect(serializeDomain(original)).toBe(text);
    const reparsed = parseDomain(output);
    expect(reparsed.cpu?.mode).toBe(mode);
    expect(reparsed.cpu?.check).toBe('partial');
    expect(reparsed.cpu?.match).toBeUndefined();
    expect(reparsed.cpu?.model).toBeUndefined();
    expect(reparsed.cpu?.vendor).toBeUndefined();
    expect(reparsed.cpu?.features).toEqual(original.cpu?.features ?? []);
    // libvirt allows migratable only for host-passthrough (and maximum)
    expect(reparsed.cpu?.migratable).toBe(mode === 'host-passthrough' ? original.cpu?.migratable : undefined);
    expect({ ...modelOf(reparsed), cpu: null }).toEqual({ ...modelOf(original), cpu: null });
  }), RUNS);
});

test('random text in <name> and attribute values round-trips and decodes to what was written', () => {
  const XML_CHAR = /^[\u0009\u000A\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
  const text = fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => XML_CHAR.test(s));
  fc.assert(fc.property(text, text, fc.constantFrom<Quote[]>("'", '"'), (name, passwd, q) => {
    const escapedName = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const xml = `<domain><name>${escapedName}</name><devices><graphics type=${q}vnc${q} passwd=${q}${escapeAttribute(passwd, q)}${q}/></devices></domain>`;
    const domain = parseDomain(xml);
    expect(serializeDomain(domain)).toBe(xml);
    expect(domain.name).toBe(name);
    expect(domain.devices.graphics[0]?.passwd).toBe(passwd);
    const next = setCpuMode(domain, 'host-model');
    expect(serializeDomain(next)).toBe(xml.replace('<devices>', `<cpu mode=${q}host-model${q} check=${q}partial${q}/><devices>`));
    expect(next.devices.graphics[0]?.passwd).toBe(passwd);
  }), RUNS);
});
