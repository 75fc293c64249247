/**
 * How a scan stores what it found: every element and attribute as a few offsets in typed arrays (a few
 * bytes each), and the {@link XmlElement}/{@link XmlAttribute} views on them, made on demand. Elements
 * are numbered in document order, so an element's first child is the next element, its attributes run
 * up to the next element's first attribute, and its next sibling is the first element after its subtree.
 * The scanner (`scan.ts`) fills the arrays; nothing else writes them.
 */
import type { XmlAttribute, XmlElement } from './document.js';
import { decodeReferences } from './entities.js';
import { nameEnd } from './name-chars.js';

/** The fields of one element in {@link ScanIndex.elements}, {@link STRIDE} numbers each. */
export const START = 0, OPEN_END = 1, CLOSE_START = 2, END = 3, FIRST_ATTRIBUTE = 4, SUBTREE_END = 5, STRIDE = 6;
/** The fields of one attribute in {@link ScanIndex.attributes}, {@link A_STRIDE} numbers each. */
export const A_START = 0, A_VALUE_START = 1, A_VALUE_END = 2, A_STRIDE = 3;

const SLASH = 47;

/**
 * The offsets of a scanned document.
 *
 * @example
 * const index: ScanIndex = { source, elements, elementCount, attributes, attributeCount };
 */
export interface ScanIndex {
  readonly source: string;
  readonly elements: Int32Array;
  readonly elementCount: number;
  readonly attributes: Int32Array;
  readonly attributeCount: number;
}

/**
 * `array`, or a copy at least `needed` long (doubling, so that filling it stays linear).
 *
 * @example
 * elements = grow(elements, elementCount * STRIDE);
 */
export function grow(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const next = new Int32Array(Math.max(needed, array.length * 2));
  next.set(array);
  return next;
}

class AttributeView implements XmlAttribute {
  readonly #index: ScanIndex;
  readonly #at: number;
  constructor(index: ScanIndex, at: number) {
    this.#index = index;
    this.#at = at * A_STRIDE;
  }
  get start(): number { return this.#index.attributes[this.#at + A_START] as number; }
  get valueStart(): number { return this.#index.attributes[this.#at + A_VALUE_START] as number; }
  get valueEnd(): number { return this.#index.attributes[this.#at + A_VALUE_END] as number; }
  get end(): number { return this.valueEnd + 1; }
  get quote(): "'" | '"' { return this.#index.source[this.valueEnd] as "'" | '"'; }
  get name(): string {
    const { source } = this.#index;
    return source.slice(this.start, nameEnd(source, this.start));
  }
  get value(): string { return attributeValue(this.#index.source.slice(this.valueStart, this.valueEnd)); }
}

class ElementView implements XmlElement {
  readonly #index: ScanIndex;
  readonly #i: number;
  constructor(index: ScanIndex, i: number) {
    this.#index = index;
    this.#i = i;
  }
  #field(field: number): number { return this.#index.elements[this.#i * STRIDE + field] as number; }
  get start(): number { return this.#field(START); }
  get openEnd(): number { return this.#field(OPEN_END); }
  get closeStart(): number { return this.#field(CLOSE_START); }
  get end(): number { return this.#field(END); }
  get selfClosing(): boolean { return this.#index.source.charCodeAt(this.openEnd - 2) === SLASH; }
  get tagClose(): number { return this.openEnd - (this.selfClosing ? 2 : 1); }
  get nameEnd(): number { return nameEnd(this.#index.source, this.start + 1); }
  get name(): string { return this.#index.source.slice(this.start + 1, this.nameEnd); }
  get attributes(): readonly XmlAttribute[] {
    const first = this.#field(FIRST_ATTRIBUTE);
    const last = this.#i + 1 < this.#index.elementCount
      ? (this.#index.elements[(this.#i + 1) * STRIDE + FIRST_ATTRIBUTE] as number)
      : this.#index.attributeCount;
    const out: XmlAttribute[] = [];
    for (let a = first; a < last; a++) out.push(new AttributeView(this.#index, a));
    return out;
  }
  get children(): readonly XmlElement[] {
    const out: XmlElement[] = [];
    const end = this.#field(SUBTREE_END);
    for (let c = this.#i + 1; c < end; c = this.#index.elements[c * STRIDE + SUBTREE_END] as number) {
      out.push(new ElementView(this.#index, c));
    }
    return out;
  }
}

/**
 * The view of element number `e` of `index`.
 *
 * @example
 * const root = elementView(index, 0);
 */
export function elementView(index: ScanIndex, e: number): XmlElement {
  return new ElementView(index, e);
}

function attributeValue(raw: string): string {
  // XML normalizes whitespace characters in attribute values to spaces (before references are decoded).
  if (/[\t\n\r]/.test(raw)) return normalizeAttributeWhitespace(raw);
  if (raw.indexOf('&') === -1) return raw;
  const decoded = decodeReferences(raw);
  return typeof decoded === 'string' ? decoded : raw;
}

function normalizeAttributeWhitespace(raw: string): string {
  const spaced = raw.replace(/\r\n|[\t\n\r]/g, ' ');
  const decoded = decodeReferences(spaced);
  return typeof decoded === 'string' ? decoded : spaced;
}
