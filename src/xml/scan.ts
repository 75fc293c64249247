/**
 * The lossless layer: a single pass over the source text that checks well-formedness and records the
 * offsets of every element and attribute. Nothing is ever re-serialized from this; edits are splices
 * of the source string (see `splice.ts`).
 */
import { DomainXmlError, type ErrorCode } from '../errors.js';
import { decodeReferences } from './entities.js';
import { lineColumnAt, lineIndexOf, type LineColumn, type LineIndex } from './line-column.js';

/** An attribute as written: decoded value plus the offsets of its bytes. */
export interface XmlAttribute {
  readonly name: string;
  /** The value with references decoded. */
  readonly value: string;
  /** Offset of the attribute's name. */
  readonly start: number;
  /** Offset just after the closing quote. */
  readonly end: number;
  /** Offset just after the opening quote. */
  readonly valueStart: number;
  /** Offset of the closing quote. */
  readonly valueEnd: number;
  readonly quote: "'" | '"';
}

/** An element as written. For `<x/>`, `openEnd === closeStart === end`. */
export interface XmlElement {
  readonly name: string;
  /** Offset of `<`. */
  readonly start: number;
  /** Offset just after the element's name in the start tag. */
  readonly nameEnd: number;
  /** Offset of the `/>` or `>` that ends the start tag. */
  readonly tagClose: number;
  /** Offset just after the start tag's `>`. */
  readonly openEnd: number;
  readonly selfClosing: boolean;
  /** Offset of the end tag's `</` (equal to `end` for a self-closing element). */
  readonly closeStart: number;
  /** Offset just after the element's last `>`. */
  readonly end: number;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
}

/** A comment as written; `text` is what stands between `<!--` and `-->`. */
export interface XmlComment {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The result of a scan: the source and what was found in it. */
export interface XmlDocument {
  readonly source: string;
  readonly root: XmlElement;
  readonly comments: readonly XmlComment[];
  /**
   * The 1-based line and column of an offset in `source`, from one line index per document (built on
   * first use), so that positions of many elements cost a binary search each.
   */
  lineColumnAt(offset: number): LineColumn;
  /** How many elements and attributes the document has, and the most attributes on one element. */
  readonly counts: XmlCounts;
}

/**
 * The size of a document in what costs a validator time: elements, attributes, and the most
 * attributes one element carries.
 *
 * @example
 * scanXml("<domain a='1' b='2'><name/></domain>").counts // { elements: 2, attributes: 2, mostAttributes: 2 }
 */
export interface XmlCounts {
  readonly elements: number;
  readonly attributes: number;
  readonly mostAttributes: number;
}

/** Limits and labels for a scan. */
export interface ScanOptions {
  /** Refuse input larger than this many bytes of UTF-8 (default 10 MiB). */
  readonly maxBytes?: number;
  /** A file name to put in error messages. */
  readonly file?: string;
}

/** The default size limit: 10 MiB. Real domain XML is a few KiB. */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

const LT = 60, GT = 62, SLASH = 47, EQ = 61, QUOT = 34, APOS = 39, BANG = 33, QMARK = 63, AMP = 38;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** Characters that end a name: whitespace and XML punctuation. */
function endsName(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === GT || c === SLASH || c === EQ ||
    c === LT || c === QUOT || c === APOS || Number.isNaN(c);
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0;
}

// XML 1.0 (fifth edition) §2.3 NameStartChar and NameChar, by code point.
const NAME_START_CHAR = /[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]/u;
const NAME_CHAR = /[-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]/u;
const ASCII_NAME = /^[A-Za-z_:][-.0-9A-Za-z_:]*$/;

/**
 * The offset in `name` of its first character that XML 1.0 does not allow there, or -1 when `name` is
 * an XML name. libxml2 refuses such names, so a template that the scanner took would fail in libvirt.
 */
function invalidNameCharAt(name: string): number {
  if (ASCII_NAME.test(name)) return -1;
  let i = 0;
  for (const char of name) {
    if (!(i === 0 ? NAME_START_CHAR : NAME_CHAR).test(char)) return i;
    i += char.length;
  }
  return name === '' ? 0 : -1;
}

/** A character of a name as a message shows it: printable ones quoted, others as U+XXXX. */
function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\x21-\x7e]$/.test(char) ? `'${char}'` : hex;
}

// eslint-disable-next-line no-control-regex
const INVALID_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

// The index: every element and attribute as a few offsets in typed arrays (a few bytes each), with
// views made on demand. Elements are numbered in document order, so an element's first child is the
// next element, its attributes run up to the next element's first attribute, and its next sibling
// is the first element after its subtree.
const START = 0, OPEN_END = 1, CLOSE_START = 2, END = 3, FIRST_ATTRIBUTE = 4, SUBTREE_END = 5, STRIDE = 6;
const A_START = 0, A_VALUE_START = 1, A_VALUE_END = 2, A_STRIDE = 3;

/** The offsets of a scanned document. */
interface ScanIndex {
  readonly source: string;
  readonly elements: Int32Array;
  readonly elementCount: number;
  readonly attributes: Int32Array;
  readonly attributeCount: number;
}

const grow = (array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> => {
  if (needed <= array.length) return array;
  const next = new Int32Array(Math.max(needed, array.length * 2));
  next.set(array);
  return next;
};

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

function nameEnd(source: string, from: number): number {
  let i = from;
  while (i < source.length && !endsName(source.charCodeAt(i))) i++;
  return i;
}

function attributeValue(raw: string): string {
  // XML normalizes whitespace characters in attribute values to spaces (before references are decoded).
  if (/[\t\n\r]/.test(raw)) return normalizeAttributeWhitespace(raw);
  if (raw.indexOf('&') === -1) return raw;
  const decoded = decodeReferences(raw);
  return typeof decoded === 'string' ? decoded : raw;
}

/**
 * Scans `source` as XML. Throws {@link DomainXmlError} (with line and column) for anything that is not
 * well-formed XML, for a DOCTYPE (no entity is ever declared or expanded), and for input over the size
 * limit.
 *
 * @example
 * const doc = scanXml("<domain type='kvm'><name>a</name></domain>");
 * doc.root.children[0]?.name // 'name'
 */
export function scanXml(source: string, options: ScanOptions = {}): XmlDocument {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const where = options.file === undefined ? 'the XML' : options.file;
  const fail = (code: ErrorCode, offset: number, what: string): never => {
    const { line, column } = lineColumnAt(source, offset);
    const prefix = options.file === undefined ? '' : `${options.file}:${line}:${column}: `;
    throw new DomainXmlError(code, `${prefix}${what}`, line, column, options.file);
  };
  // A UTF-8 byte is at most one UTF-16 unit, and a unit at most three bytes: measure only when in doubt.
  if (source.length > maxBytes || (source.length * 3 > maxBytes && Buffer.byteLength(source, 'utf8') > maxBytes)) {
    const { line, column } = lineColumnAt(source, 0);
    throw new DomainXmlError('XML_TOO_LARGE', `${where} is larger than the limit of ${maxBytes} bytes; domain XML is normally a few KiB`, line, column, options.file);
  }
  const bad = INVALID_CHAR.exec(source);
  if (bad) fail('XML_MALFORMED', bad.index, `the character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);

  const n = source.length;
  const comments: XmlComment[] = [];
  let pos = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  const bodyStart = pos;

  const readName = (from: number): number => {
    let i = from;
    while (i < n && !endsName(source.charCodeAt(i))) i++;
    return i;
  };
  const skipSpace = (from: number): number => {
    let i = from;
    while (i < n && isSpace(source.charCodeAt(i))) i++;
    return i;
  };
  const readComment = (from: number): number => {
    const close = source.indexOf('-->', from + 4);
    if (close === -1) fail('XML_MALFORMED', from, 'a comment is not closed (missing -->)');
    const text = source.slice(from + 4, close);
    const dashes = text.indexOf('--');
    if (dashes !== -1 || text.endsWith('-')) fail('XML_MALFORMED', from + 4 + (dashes === -1 ? text.length - 1 : dashes), "a comment contains '--', which XML does not allow");
    comments.push({ start: from, end: close + 3, text });
    return close + 3;
  };
  const readPi = (from: number): number => {
    const close = source.indexOf('?>', from + 2);
    if (close === -1) fail('XML_MALFORMED', from, 'a processing instruction is not closed (missing ?>)');
    const target = source.slice(from + 2, readName(from + 2));
    if (target.toLowerCase() === 'xml' && from !== bodyStart) fail('XML_MALFORMED', from, 'the XML declaration is allowed only at the very start');
    if (target === '') fail('XML_MALFORMED', from, "'<?' is not followed by a name");
    return close + 2;
  };
  /** Markup outside the root: comments, PIs, whitespace. Returns the offset of the next other thing. */
  const readMisc = (from: number, before: boolean): number => {
    let i = from;
    for (;;) {
      i = skipSpace(i);
      if (i >= n) return i;
      if (source.charCodeAt(i) !== LT) {
        fail('XML_MALFORMED', i, before ? 'text before the root element' : 'text after the end of the root element');
      }
      if (source.startsWith('<!--', i)) i = readComment(i);
      else if (source.startsWith('<?', i)) i = readPi(i);
      else if (source.startsWith('<!DOCTYPE', i)) {
        fail('XML_DOCTYPE', i, 'a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)');
      } else if (source.charCodeAt(i + 1) === BANG) fail('XML_MALFORMED', i, "'<!' here is neither a comment nor a DOCTYPE");
      else return i;
    }
  };
  // The next '&' and ']]>' at or after the text being checked, found once and reused: searching
  // afresh from every text node would read the rest of the document each time.
  let nextAmp = -2;
  let nextCdataEnd = -2;
  let nextLt = -2;
  const checkText = (from: number, to: number): void => {
    if (nextAmp !== -1 && nextAmp < from) nextAmp = source.indexOf('&', from);
    if (nextAmp !== -1 && nextAmp < to) {
      const decoded = decodeReferences(source.slice(from, to));
      if (typeof decoded !== 'string') fail('XML_MALFORMED', from + decoded.offset, decoded.message);
    }
    if (nextCdataEnd !== -1 && nextCdataEnd < from) nextCdataEnd = source.indexOf(']]>', from);
    if (nextCdataEnd !== -1 && nextCdataEnd < to) fail('XML_MALFORMED', nextCdataEnd, "']]>' is not allowed in text");
  };

  let elements = new Int32Array(64 * STRIDE);
  let elementCount = 0;
  let attributes = new Int32Array(64 * A_STRIDE);
  let attributeCount = 0;
  const names: string[] = [];

  /** Parses a start tag at `from` (a `<` followed by a name) into element number `e`; returns whether it is self-closing. */
  const readStartTag = (from: number): number => {
    const nameEnd = readName(from + 1);
    const name = source.slice(from + 1, nameEnd);
    if (name === '' || !isNameStart(name.charCodeAt(0))) fail('XML_MALFORMED', from + 1, "'<' is not followed by an element name");
    const badInName = invalidNameCharAt(name);
    if (badInName !== -1) {
      fail('XML_MALFORMED', from + 1 + badInName, `the element name <${name}> is not an XML name (${describeChar(String.fromCodePoint(name.codePointAt(badInName) ?? 0))} is not allowed ${badInName === 0 ? 'at the start of' : 'in'} a name)`);
    }
    const e = elementCount++;
    elements = grow(elements, elementCount * STRIDE);
    const at = e * STRIDE;
    elements[at + START] = from;
    elements[at + FIRST_ATTRIBUTE] = attributeCount;
    names[e] = name;
    const firstAttribute = attributeCount;
    let seen: Set<string> | undefined;
    let i = nameEnd;
    for (;;) {
      const afterName = i;
      i = skipSpace(i);
      const c = source.charCodeAt(i);
      if (i >= n) fail('XML_MALFORMED', from, `the start tag <${name}> is not closed`);
      if (c === GT) {
        elements[at + OPEN_END] = i + 1;
        return e;
      }
      if (c === SLASH) {
        if (source.charCodeAt(i + 1) !== GT) fail('XML_MALFORMED', i, `'/' in the start tag <${name}> is not followed by '>'`);
        elements[at + OPEN_END] = i + 2;
        elements[at + CLOSE_START] = i + 2;
        elements[at + END] = i + 2;
        elements[at + SUBTREE_END] = e + 1;
        return e;
      }
      if (i === afterName) fail('XML_MALFORMED', i, `attributes of <${name}> must be separated by whitespace`);
      const attrStart = i;
      const attrNameEnd = readName(i);
      if (attrNameEnd === i || !isNameStart(source.charCodeAt(i))) fail('XML_MALFORMED', i, `unexpected character in the start tag <${name}>`);
      const attrName = source.slice(i, attrNameEnd);
      const badInAttribute = invalidNameCharAt(attrName);
      if (badInAttribute !== -1) {
        fail('XML_MALFORMED', i + badInAttribute, `the attribute name ${attrName} in <${name}> is not an XML name (${describeChar(String.fromCodePoint(attrName.codePointAt(badInAttribute) ?? 0))} is not allowed ${badInAttribute === 0 ? 'at the start of' : 'in'} a name)`);
      }
      i = skipSpace(attrNameEnd);
      if (source.charCodeAt(i) !== EQ) fail('XML_MALFORMED', i, `the attribute ${attrName} of <${name}> has no '=' and value`);
      i = skipSpace(i + 1);
      const quote = source.charCodeAt(i);
      if (quote !== QUOT && quote !== APOS) fail('XML_MALFORMED', i, `the value of ${attrName} in <${name}> is not quoted`);
      const valueStart = i + 1;
      const valueEnd = source.indexOf(quote === QUOT ? '"' : "'", valueStart);
      if (valueEnd === -1) fail('XML_MALFORMED', i, `the value of ${attrName} in <${name}> is not closed`);
      // the next '<' and '&' are found once and reused, as for text: searching afresh from every value
      // would read on to the next tag or the end of the document each time
      if (nextLt !== -1 && nextLt < valueStart) nextLt = source.indexOf('<', valueStart);
      if (nextLt !== -1 && nextLt < valueEnd) fail('XML_MALFORMED', nextLt, `'<' is not allowed in the value of ${attrName}`);
      if (nextAmp !== -1 && nextAmp < valueStart) nextAmp = source.indexOf('&', valueStart);
      if (nextAmp !== -1 && nextAmp < valueEnd) {
        const decoded = decodeReferences(source.slice(valueStart, valueEnd));
        if (typeof decoded !== 'string') fail('XML_MALFORMED', valueStart + decoded.offset, decoded.message);
      }
      // a set once a tag has many attributes, so that a hostile tag cannot make this quadratic
      if (seen === undefined && attributeCount - firstAttribute >= 16) {
        seen = new Set();
        for (let a = firstAttribute; a < attributeCount; a++) {
          const other = attributes[a * A_STRIDE + A_START] as number;
          seen.add(source.slice(other, readName(other)));
        }
      }
      let twice = seen?.has(attrName) ?? false;
      for (let a = firstAttribute; seen === undefined && a < attributeCount; a++) {
        const other = attributes[a * A_STRIDE + A_START] as number;
        if (source.startsWith(attrName, other) && endsName(source.charCodeAt(other + attrName.length))) twice = true;
      }
      if (twice) fail('XML_MALFORMED', attrStart, `the attribute ${attrName} appears twice in <${name}>`);
      seen?.add(attrName);
      attributes = grow(attributes, (attributeCount + 1) * A_STRIDE);
      const aAt = attributeCount++ * A_STRIDE;
      attributes[aAt + A_START] = attrStart;
      attributes[aAt + A_VALUE_START] = valueStart;
      attributes[aAt + A_VALUE_END] = valueEnd;
      i = valueEnd + 1;
    }
  };

  pos = readMisc(pos, true);
  if (pos >= n) fail('XML_MALFORMED', n, 'there is no root element');
  const stack: number[] = [];
  const rootNumber = readStartTag(pos);
  const isOpen = (e: number) => elements[e * STRIDE + END] === 0 && elements[e * STRIDE + CLOSE_START] === 0;
  pos = elements[rootNumber * STRIDE + OPEN_END] as number;
  if (isOpen(rootNumber)) stack.push(rootNumber);
  while (stack.length > 0) {
    const parent = stack[stack.length - 1] as number;
    const parentName = names[parent] as string;
    const lt = source.indexOf('<', pos);
    if (lt === -1) fail('XML_MALFORMED', elements[parent * STRIDE + START] as number, `the element <${parentName}> is not closed`);
    if (lt > pos) checkText(pos, lt);
    const next = source.charCodeAt(lt + 1);
    if (next === SLASH) {
      const nameEnd = readName(lt + 2);
      const name = source.slice(lt + 2, nameEnd);
      if (name !== parentName) {
        fail('XML_MALFORMED', lt, name === '' ? `a malformed end tag where </${parentName}> was expected` : `the end tag </${name}> does not match <${parentName}>`);
      }
      const close = skipSpace(nameEnd);
      if (source.charCodeAt(close) !== GT) fail('XML_MALFORMED', close, `the end tag </${name}> is not closed with '>'`);
      elements[parent * STRIDE + CLOSE_START] = lt;
      elements[parent * STRIDE + END] = close + 1;
      elements[parent * STRIDE + SUBTREE_END] = elementCount;
      stack.pop();
      pos = close + 1;
    } else if (next === BANG) {
      if (source.startsWith('<!--', lt)) pos = readComment(lt);
      else if (source.startsWith('<![CDATA[', lt)) {
        const close = source.indexOf(']]>', lt + 9);
        if (close === -1) fail('XML_MALFORMED', lt, 'a CDATA section is not closed (missing ]]>)');
        pos = close + 3;
      } else if (source.startsWith('<!DOCTYPE', lt)) {
        fail('XML_DOCTYPE', lt, 'a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)');
      } else if (source.startsWith('<!ENTITY', lt)) {
        fail('XML_DOCTYPE', lt, 'an entity declaration is not allowed in domain XML');
      } else fail('XML_MALFORMED', lt, "'<!' here is neither a comment nor CDATA");
    } else if (next === QMARK) {
      pos = readPi(lt);
    } else {
      const child = readStartTag(lt);
      pos = elements[child * STRIDE + OPEN_END] as number;
      if (isOpen(child)) stack.push(child);
    }
  }
  const rootEnd = elements[rootNumber * STRIDE + END] as number;
  const after = readMisc(rootEnd, false);
  if (after < n) fail('XML_MALFORMED', after, 'markup after the end of the root element (a document has one root)');
  const index: ScanIndex = { source, elements, elementCount, attributes, attributeCount };
  const root = new ElementView(index, rootNumber);
  let lines: LineIndex | undefined;
  let mostAttributes = 0;
  for (let e = 0; e < elementCount; e++) {
    const next = e + 1 < elementCount ? (elements[(e + 1) * STRIDE + FIRST_ATTRIBUTE] as number) : attributeCount;
    mostAttributes = Math.max(mostAttributes, next - (elements[e * STRIDE + FIRST_ATTRIBUTE] as number));
  }
  return {
    source,
    root,
    comments,
    counts: { elements: elementCount, attributes: attributeCount, mostAttributes },
    lineColumnAt: (offset) => (lines ??= lineIndexOf(source)).lineColumnAt(offset),
  };
}

function normalizeAttributeWhitespace(raw: string): string {
  const spaced = raw.replace(/\r\n|[\t\n\r]/g, ' ');
  const decoded = decodeReferences(spaced);
  return typeof decoded === 'string' ? decoded : spaced;
}

/**
 * The text content of `element` (its direct text and CDATA; comments, processing instructions and
 * child elements skipped), with references decoded.
 *
 * @example
 * textOf(doc, nameElement) // 'web-1'
 */
export function textOf(doc: XmlDocument, element: XmlElement): string {
  if (element.selfClosing) return '';
  const { source } = doc;
  let out = '';
  let pos = element.openEnd;
  // read once: each read of `children` builds the list anew
  const children = element.children;
  let child = 0;
  while (pos < element.closeStart) {
    const lt = source.indexOf('<', pos);
    const stop = lt === -1 || lt > element.closeStart ? element.closeStart : lt;
    if (stop > pos) {
      // line ends are normalized before references are decoded, so a &#13; stays a carriage return
      const raw = source.slice(pos, stop).replace(/\r\n?/g, '\n');
      const decoded = decodeReferences(raw);
      out += typeof decoded === 'string' ? decoded : raw;
    }
    if (stop === element.closeStart) break;
    if (source.startsWith('<!--', stop)) pos = source.indexOf('-->', stop) + 3;
    else if (source.startsWith('<![CDATA[', stop)) {
      const close = source.indexOf(']]>', stop);
      out += source.slice(stop + 9, close).replace(/\r\n?/g, '\n');
      pos = close + 3;
    } else if (source.startsWith('<?', stop)) pos = source.indexOf('?>', stop) + 2;
    else {
      const c = children[child++];
      pos = c ? c.end : element.closeStart;
    }
  }
  return out;
}

/**
 * The value of the attribute `name` of `element`, or undefined.
 *
 * @example
 * attributeOf(cpu, 'mode') // 'host-model'
 */
export function attributeOf(element: XmlElement, name: string): string | undefined {
  for (const a of element.attributes) if (a.name === name) return a.value;
  return undefined;
}

/**
 * The first child of `element` named `name`.
 *
 * @example
 * childOf(doc.root, 'os')
 */
export function childOf(element: XmlElement, name: string): XmlElement | undefined {
  for (const c of element.children) if (c.name === name) return c;
  return undefined;
}
