/**
 * The splices that give a document's top-level `<cpu>` a mode, a check and feature edits: an existing
 * `<cpu>` is edited where it stands, a missing one inserted where libvirt writes it, each in the
 * document's own indentation, newline and quote.
 */
import type { CpuMode } from '../domain/types.js';
import type { XmlAttribute, XmlDocument, XmlElement } from '../xml/document.js';
import { buildAttributes, buildEmptyElement } from '../xml/build-element.js';
import { escapeAttribute } from '../xml/entities.js';
import type { Splice } from '../xml/splice.js';
import { indentOf, styleOf } from '../xml/style.js';
import type { FeatureEdits } from './feature-edits.js';
import type { CpuCheck } from './modes.js';

/** Children libvirt writes before `<cpu>` (it goes after the last of them). */
const BEFORE_CPU = new Set(['os', 'idmap', 'features']);
/** Children libvirt writes after `<cpu>` (it goes before the first of them). */
const AFTER_CPU = /^(clock|on_poweroff|on_reboot|on_crash|on_lockfailure|pm|perf|devices)$/;
/** Children that only mean something with mode='custom'. */
const CUSTOM_ONLY = new Set(['model', 'vendor']);
/** The modes for which libvirt accepts `migratable` ("only allowed for 'host-passthrough' / 'maximum'"). */
const MIGRATABLE_MODES: ReadonlySet<string> = new Set(['host-passthrough', 'maximum']);

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

/** One level deeper than `element`, in the document's own indentation; undefined when `element` shares its line. */
function childIndent(doc: XmlDocument, element: XmlElement): string | undefined {
  const first = element.children[0];
  const existing = first === undefined ? undefined : indentOf(doc.source, first);
  if (existing !== undefined) return existing;
  const own = indentOf(doc.source, element);
  return own === undefined ? undefined : own + (styleOf(doc).indentUnit || '  ');
}

/** `<feature …/>` elements, each on its own line at `indent` (or all on one line when indent is undefined). */
function featureLines(added: FeatureEdits['added'], quote: "'" | '"', newline: string, indent: string | undefined): string {
  return added.map(([policy, name]) => `${indent === undefined ? '' : newline + indent}${buildEmptyElement('feature', [['policy', policy], ['name', name]], quote)}`).join('');
}

/**
 * The splices that edit `cpu`: `mode` and `check` set; `match`, `<model>`, `<vendor>` dropped, and
 * `migratable` unless `mode` allows it; `edits` applied to its `<feature>`s. An element left with
 * nothing but whitespace inside is written as libvirt does, `<cpu …/>`.
 *
 * @example
 * applySplices(doc.source, editCpu(doc, cpu, 'host-model', 'partial', { removed: [], repoliced: [], added: [] }))
 */
export function editCpu(doc: XmlDocument, cpu: XmlElement, mode: CpuMode, check: CpuCheck, edits: FeatureEdits): Splice[] {
  const { source } = doc;
  const splices: Splice[] = [];
  const style = styleOf(doc);
  const quote = cpu.attributes[0]?.quote ?? style.quote;
  const modeAttribute = cpu.attributes.find((a) => a.name === 'mode');
  setAttribute(cpu, 'mode', mode, cpu.nameEnd, quote, splices);
  setAttribute(cpu, 'check', check, modeAttribute ? modeAttribute.end : cpu.nameEnd, quote, splices);
  for (const name of ['match', ...(MIGRATABLE_MODES.has(mode) ? [] : ['migratable'])]) {
    const attribute = cpu.attributes.find((a) => a.name === name);
    if (attribute) removeAttribute(attribute, source, splices);
  }

  for (const [feature, policy] of edits.repoliced) setAttribute(feature, 'policy', policy, feature.nameEnd, feature.attributes[0]?.quote ?? quote, splices);
  const dropped = [...cpu.children.filter((c) => CUSTOM_ONLY.has(c.name)), ...edits.removed].sort((a, b) => a.start - b.start);
  const indent = childIndent(doc, cpu);
  if (cpu.selfClosing) {
    if (edits.added.length > 0) {
      const close = indent === undefined ? '' : style.newline + (indentOf(source, cpu) ?? '');
      splices.push({ start: whitespaceBefore(source, cpu.tagClose), end: cpu.end, text: `>${featureLines(edits.added, quote, style.newline, indent)}${close}</cpu>` });
    }
    return splices;
  }
  const kept = cpu.children.filter((c) => !dropped.includes(c));
  if (edits.added.length > 0) {
    const at = kept.length > 0 ? (kept[kept.length - 1] as XmlElement).end : cpu.openEnd;
    splices.push({ start: at, end: at, text: featureLines(edits.added, quote, style.newline, indent) });
  }
  if (dropped.length === 0) return splices;
  // When nothing but whitespace would be left inside, write the element as libvirt does: <cpu …/>.
  let rest = '';
  let at = cpu.openEnd;
  for (const child of dropped) {
    rest += source.slice(at, child.start);
    at = child.end;
  }
  rest += source.slice(at, cpu.closeStart);
  if (edits.added.length === 0 && /^[ \t\r\n]*$/.test(rest)) {
    splices.push({ start: whitespaceBefore(source, cpu.tagClose), end: cpu.end, text: '/>' });
  } else {
    for (const child of dropped) splices.push({ start: whitespaceBefore(source, child.start), end: child.end, text: '' });
  }
  return splices;
}

/** A new `<cpu>` with `features` inside, its children one level deeper than `indent`. */
function newCpu(doc: XmlDocument, mode: CpuMode, check: CpuCheck, added: FeatureEdits['added'], indent: string | undefined): string {
  const style = styleOf(doc);
  const attributes: Array<readonly [string, string]> = [['mode', mode], ['check', check]];
  if (added.length === 0) return buildEmptyElement('cpu', attributes, style.quote);
  const inner = indent === undefined ? undefined : indent + (style.indentUnit || '  ');
  const close = indent === undefined ? '' : style.newline + indent;
  return `<cpu${buildAttributes(attributes, style.quote)}>${featureLines(added, style.quote, style.newline, inner)}${close}</cpu>`;
}

/**
 * The splice that inserts a new `<cpu>` with `mode`, `check` and the `added` features where libvirt
 * writes it: after the last of `<os>`, `<idmap>`, `<features>`; else before the first of `<clock>`,
 * `<on_*>`, `<pm>`, `<perf>`, `<devices>`; else last.
 *
 * @example
 * applySplices(doc.source, [insertCpu(doc, 'host-model', 'partial', [])])
 */
export function insertCpu(doc: XmlDocument, mode: CpuMode, check: CpuCheck, added: FeatureEdits['added']): Splice {
  const { source, root } = doc;
  const style = styleOf(doc);
  const cpuText = (indent: string | undefined) => newCpu(doc, mode, check, added, indent);
  let after: XmlElement | undefined;
  for (const child of root.children) if (BEFORE_CPU.has(child.name)) after = child;
  if (after) {
    const indent = indentOf(source, after);
    return { start: after.end, end: after.end, text: indent === undefined ? cpuText(indent) : `${style.newline}${indent}${cpuText(indent)}` };
  }
  const before = root.children.find((c) => AFTER_CPU.test(c.name));
  if (before) {
    const indent = indentOf(source, before);
    return { start: before.start, end: before.start, text: indent === undefined ? cpuText(indent) : `${cpuText(indent)}${style.newline}${indent}` };
  }
  if (root.selfClosing) {
    return { start: whitespaceBefore(source, root.tagClose), end: root.end, text: `>${cpuText(undefined)}</${root.name}>` };
  }
  const last = root.children[root.children.length - 1];
  if (last) {
    const indent = indentOf(source, last);
    return { start: last.end, end: last.end, text: indent === undefined ? cpuText(indent) : `${style.newline}${indent}${cpuText(indent)}` };
  }
  const inside = source.slice(root.openEnd, root.closeStart);
  if (inside.includes('\n')) {
    const indent = `${indentOf(source, root) ?? ''}${style.indentUnit || '  '}`;
    return { start: root.openEnd, end: root.openEnd, text: `${style.newline}${indent}${cpuText(indent)}` };
  }
  return { start: root.closeStart, end: root.closeStart, text: cpuText(undefined) };
}
