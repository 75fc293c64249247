/**
 * setCpuMode: Domain → Domain, a pure function that plans splices of the source text. Only the bytes
 * of the top-level `<cpu>` change (or a new `<cpu/>` is inserted where libvirt writes it).
 */
import { VirtNestedError } from '../errors.js';
import { documentOf } from '../domain/document-of.js';
import { domainOf } from '../domain/parse-domain.js';
import type { CpuMode, Domain } from '../domain/types.js';
import { buildAttributes, buildEmptyElement } from '../xml/build-element.js';
import { escapeAttribute } from '../xml/entities.js';
import { scanXml, type XmlAttribute, type XmlDocument, type XmlElement } from '../xml/scan.js';
import { applySplices, type Splice } from '../xml/splice.js';
import { indentOf, styleOf } from '../xml/style.js';
import { CPU_MODES } from './modes.js';
import { warningsFor } from './warnings.js';

/** The `check` values libvirt accepts for a `<cpu>`. */
export type CpuCheck = 'none' | 'partial' | 'full';

/** Options of {@link setCpuMode}. */
export interface SetCpuModeOptions {
  /** The `check` attribute to set (default 'partial', as the how-to asks: it lets the guest start
   *  when the host lacks a feature a full check would demand). */
  readonly check?: CpuCheck;
}

export { CPU_MODES } from './modes.js';
const CHECKS: readonly CpuCheck[] = ['none', 'partial', 'full'];

/** Children libvirt writes before `<cpu>` (it goes after the last of them). */
const BEFORE_CPU = new Set(['os', 'idmap', 'features']);
/** Children libvirt writes after `<cpu>` (it goes before the first of them). */
const AFTER_CPU = /^(clock|on_poweroff|on_reboot|on_crash|on_lockfailure|pm|perf|devices)$/;
/** Children that only mean something with mode='custom'. */
const CUSTOM_ONLY = new Set(['model', 'vendor']);

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;

/** The offset where the whitespace run that ends at `offset` begins. */
function whitespaceBefore(source: string, offset: number): number {
  let i = offset;
  while (i > 0 && isSpace(source.charCodeAt(i - 1))) i--;
  return i;
}

function setAttribute(cpu: XmlElement, name: string, value: string, after: number, quote: "'" | '"', out: Splice[]): void {
  const existing = cpu.attributes.find((a) => a.name === name);
  if (!existing) {
    out.push({ start: after, end: after, text: buildAttributes([[name, value]], quote) });
  } else if (existing.value !== value) {
    // keep the attribute where it stands and in its own quote; only its value changes
    out.push({ start: existing.valueStart, end: existing.valueEnd, text: escapeAttribute(value, existing.quote) });
  }
}

function removeAttribute(attribute: XmlAttribute, source: string, out: Splice[]): void {
  out.push({ start: whitespaceBefore(source, attribute.start), end: attribute.end, text: '' });
}

function editCpu(doc: XmlDocument, cpu: XmlElement, mode: CpuMode, check: CpuCheck): Splice[] {
  const { source } = doc;
  const splices: Splice[] = [];
  const quote = cpu.attributes[0]?.quote ?? styleOf(doc).quote;
  const modeAttribute = cpu.attributes.find((a) => a.name === 'mode');
  setAttribute(cpu, 'mode', mode, cpu.nameEnd, quote, splices);
  setAttribute(cpu, 'check', check, modeAttribute ? modeAttribute.end : cpu.nameEnd, quote, splices);
  const match = cpu.attributes.find((a) => a.name === 'match');
  if (match) removeAttribute(match, source, splices);

  const dropped = cpu.children.filter((c) => CUSTOM_ONLY.has(c.name));
  if (dropped.length === 0) return splices;
  // When nothing but whitespace would be left inside, write the element as libvirt does: <cpu …/>.
  let rest = '';
  let at = cpu.openEnd;
  for (const child of dropped) {
    rest += source.slice(at, child.start);
    at = child.end;
  }
  rest += source.slice(at, cpu.closeStart);
  if (/^[ \t\r\n]*$/.test(rest)) {
    splices.push({ start: whitespaceBefore(source, cpu.tagClose), end: cpu.end, text: '/>' });
  } else {
    for (const child of dropped) splices.push({ start: whitespaceBefore(source, child.start), end: child.end, text: '' });
  }
  return splices;
}

function insertCpu(doc: XmlDocument, mode: CpuMode, check: CpuCheck): Splice {
  const { source, root } = doc;
  const style = styleOf(doc);
  const cpuText = buildEmptyElement('cpu', [['mode', mode], ['check', check]], style.quote);
  let after: XmlElement | undefined;
  for (const child of root.children) if (BEFORE_CPU.has(child.name)) after = child;
  if (after) {
    const indent = indentOf(source, after);
    return { start: after.end, end: after.end, text: indent === undefined ? cpuText : `${style.newline}${indent}${cpuText}` };
  }
  const before = root.children.find((c) => AFTER_CPU.test(c.name));
  if (before) {
    const indent = indentOf(source, before);
    return { start: before.start, end: before.start, text: indent === undefined ? cpuText : `${cpuText}${style.newline}${indent}` };
  }
  if (root.selfClosing) {
    return { start: whitespaceBefore(source, root.tagClose), end: root.end, text: `>${cpuText}</${root.name}>` };
  }
  const last = root.children[root.children.length - 1];
  if (last) {
    const indent = indentOf(source, last);
    return { start: last.end, end: last.end, text: indent === undefined ? cpuText : `${style.newline}${indent}${cpuText}` };
  }
  const inside = source.slice(root.openEnd, root.closeStart);
  if (inside.includes('\n')) {
    const rootIndent = indentOf(source, root) ?? '';
    return { start: root.openEnd, end: root.openEnd, text: `${style.newline}${rootIndent}${style.indentUnit || '  '}${cpuText}` };
  }
  return { start: root.closeStart, end: root.closeStart, text: cpuText };
}

/**
 * Returns a new {@link Domain} whose top-level `<cpu>` has `mode` and `check='partial'` (or
 * `options.check`); the argument is not changed. An existing `<cpu>` is edited where it stands: `match`,
 * `<model>` and `<vendor>` (meaningful only for mode='custom') are dropped, every other attribute and
 * child (`migratable`, `<topology>`, `<cache>`, `<numa>`, `<feature>`…) is kept. A missing `<cpu>` is
 * inserted where libvirt writes it (after `<os>`/`<idmap>`/`<features>`, else before
 * `<clock>`/`<on_*>`/`<pm>`/`<perf>`/`<devices>`, else last), in the document's own indentation,
 * newline and quote. Idempotent. The result's `warnings` say what would still keep the guest from
 * nested virtualization (a disabled vmx/svm feature, a non-x86 arch, a non-KVM driver) and what
 * host-passthrough costs.
 *
 * @example
 * const next = setCpuMode(parseDomain(xml), 'host-model');
 * serializeDomain(next) // …<cpu mode='host-model' check='partial'/>…
 * next.warnings         // [] or e.g. [{ code: 'nested-feature-disabled', … }]
 */
export function setCpuMode(domain: Domain, mode: CpuMode, options: SetCpuModeOptions = {}): Domain {
  if (!CPU_MODES.includes(mode)) {
    throw new VirtNestedError('USAGE', `the CPU mode must be host-model or host-passthrough, not ${JSON.stringify(mode)}`);
  }
  const check = options.check ?? 'partial';
  if (!CHECKS.includes(check)) {
    throw new VirtNestedError('USAGE', `check must be none, partial or full, not ${JSON.stringify(check)}`);
  }
  const doc = documentOf(domain);
  const cpu = doc.root.children.find((c) => c.name === 'cpu');
  const splices = cpu ? editCpu(doc, cpu, mode, check) : [insertCpu(doc, mode, check)];
  const next = splices.length === 0 ? doc : scanXml(applySplices(doc.source, splices), { maxBytes: Infinity });
  return domainOf(next, (edited) => warningsFor(edited, mode));
}
