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
import { NESTED_POLICIES, type HostModelCpu, type NestedPolicy } from './nested.js';
import { VIRTUALIZATION_FEATURES, disablesVirtualization, hostVirtualizationFlag, warningsFor } from './warnings.js';

/** The `check` values libvirt accepts for a `<cpu>`. */
export type CpuCheck = 'none' | 'partial' | 'full';

/** Options of {@link setCpuMode}. */
export interface SetCpuModeOptions {
  /** The `check` attribute to set (default 'partial', as the how-to asks: it lets the guest start
   *  when the host lacks a feature a full check would demand). */
  readonly check?: CpuCheck;
  /**
   * What to do with vmx/svm `<feature>`s (default 'keep': they stay, and one that disables them is a
   * warning). 'off' disables both (`<feature policy='disable' name='vmx'/>` and `name='svm'`); 'on'
   * removes every `disable`/`forbid` policy on them and, given `hostModel`, requires the host's flag
   * where that CPU disables it.
   */
  readonly nested?: NestedPolicy;
  /** domcapabilities' host-model CPU of the host the guest runs on (see `hostModelCpu`); used by nested 'on'. */
  readonly hostModel?: HostModelCpu;
}

export { CPU_MODES } from './modes.js';
const CHECKS: readonly CpuCheck[] = ['none', 'partial', 'full'];

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

/** The `<feature>` changes that a nested policy asks of a `<cpu>`. */
interface FeatureEdits {
  /** Existing `<feature>` elements to remove. */
  readonly removed: readonly XmlElement[];
  /** Existing `<feature>` elements whose policy becomes the given one. */
  readonly repoliced: ReadonlyArray<readonly [XmlElement, string]>;
  /** New `<feature policy=… name=…/>`, as [policy, name]. */
  readonly added: ReadonlyArray<readonly [string, string]>;
}

const NO_FEATURE_EDITS: FeatureEdits = { removed: [], repoliced: [], added: [] };

const attributeOf = (element: XmlElement, name: string) => element.attributes.find((a) => a.name === name)?.value;

function featureEdits(features: readonly XmlElement[], options: SetCpuModeOptions): FeatureEdits {
  const nested = options.nested ?? 'keep';
  if (nested === 'keep') return NO_FEATURE_EDITS;
  const removed: XmlElement[] = [];
  const repoliced: Array<readonly [XmlElement, string]> = [];
  const added: Array<readonly [string, string]> = [];
  const named = (flag: string) => features.filter((f) => attributeOf(f, 'name') === flag);
  if (nested === 'off') {
    for (const flag of VIRTUALIZATION_FEATURES) {
      const existing = named(flag);
      if (existing.length === 0) added.push(['disable', flag]);
      for (const feature of existing) {
        if (!disablesVirtualization({ name: flag, policy: attributeOf(feature, 'policy') })) repoliced.push([feature, 'disable']);
      }
    }
    return { removed, repoliced, added };
  }
  for (const flag of VIRTUALIZATION_FEATURES) {
    for (const feature of named(flag)) {
      if (disablesVirtualization({ name: flag, policy: attributeOf(feature, 'policy') })) removed.push(feature);
    }
  }
  const flag = options.hostModel ? hostVirtualizationFlag(options.hostModel) : undefined;
  // libvirt lists a flag of the host-model's named model that it will not give as policy='disable', and
  // a flag it leaves out may be missing from the named model itself (QEMU's EPYC under KVM has no svm):
  // unless the host-model CPU requires the flag already, the guest requires it
  const required = options.hostModel?.features.some((f) => f.name === flag && (f.policy === 'require' || f.policy === 'force'));
  if (flag !== undefined && !required) {
    const kept = named(flag).filter((f) => !removed.includes(f));
    // an absent policy means require; optional would let libvirt drop the flag again
    for (const feature of kept) if (attributeOf(feature, 'policy') === 'optional') repoliced.push([feature, 'require']);
    if (kept.length === 0) added.push(['require', flag]);
  }
  return { removed, repoliced, added };
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

function editCpu(doc: XmlDocument, cpu: XmlElement, mode: CpuMode, check: CpuCheck, options: SetCpuModeOptions): Splice[] {
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

  const edits = featureEdits(cpu.children.filter((c) => c.name === 'feature'), options);
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

function insertCpu(doc: XmlDocument, mode: CpuMode, check: CpuCheck, options: SetCpuModeOptions): Splice {
  const { source, root } = doc;
  const style = styleOf(doc);
  const { added } = featureEdits([], options);
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

/**
 * Returns a new {@link Domain} whose top-level `<cpu>` has `mode` and `check='partial'` (or
 * `options.check`); the argument is not changed. An existing `<cpu>` is edited where it stands: `match`,
 * `<model>` and `<vendor>` (meaningful only for mode='custom') are dropped, and so is `migratable` unless
 * the new mode allows it (host-passthrough); every other attribute and child (`<topology>`, `<cache>`,
 * `<numa>`, `<feature>`…) is kept. `options.nested` 'off' disables vmx and svm with `<feature>`s, 'on'
 * removes what disables them (see {@link SetCpuModeOptions}). A missing `<cpu>` is
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
 * serializeDomain(setCpuMode(parseDomain(xml), 'host-model', { nested: 'off' }))
 * // …<cpu mode='host-model' check='partial'><feature policy='disable' name='vmx'/><feature policy='disable' name='svm'/></cpu>…
 */
export function setCpuMode(domain: Domain, mode: CpuMode, options: SetCpuModeOptions = {}): Domain {
  if (!CPU_MODES.includes(mode)) {
    throw new VirtNestedError('USAGE', `the CPU mode must be host-model or host-passthrough, not ${JSON.stringify(mode)}`);
  }
  const check = options.check ?? 'partial';
  if (!CHECKS.includes(check)) {
    throw new VirtNestedError('USAGE', `check must be none, partial or full, not ${JSON.stringify(check)}`);
  }
  const nested = options.nested ?? 'keep';
  if (!NESTED_POLICIES.includes(nested)) {
    throw new VirtNestedError('USAGE', `nested must be keep, on or off, not ${JSON.stringify(nested)}`);
  }
  const doc = documentOf(domain);
  const cpu = doc.root.children.find((c) => c.name === 'cpu');
  const splices = cpu ? editCpu(doc, cpu, mode, check, options) : [insertCpu(doc, mode, check, options)];
  const next = splices.length === 0 ? doc : scanXml(applySplices(doc.source, splices), { maxBytes: Infinity });
  return domainOf(next, (edited) => warningsFor(edited, mode, { nested }));
}
