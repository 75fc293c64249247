/**
 * The lossless layer: a single pass over the source text that checks well-formedness and records the
 * offsets of every element and attribute. Nothing is ever re-serialized from this; edits are splices
 * of the source string (see `splice.ts`).
 */
import { DomainXmlError, type ErrorCode } from '../errors.js';
import { decodeReferences } from './entities.js';
import { lineColumnAt } from './line-column.js';

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

interface MutableElement {
  name: string;
  start: number;
  nameEnd: number;
  tagClose: number;
  openEnd: number;
  selfClosing: boolean;
  closeStart: number;
  end: number;
  attributes: XmlAttribute[];
  children: MutableElement[];
}

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

// eslint-disable-next-line no-control-regex
const INVALID_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

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
  const checkText = (from: number, to: number): void => {
    const amp = source.indexOf('&', from);
    if (amp !== -1 && amp < to) {
      const decoded = decodeReferences(source.slice(from, to));
      if (typeof decoded !== 'string') fail('XML_MALFORMED', from + decoded.offset, decoded.message);
    }
    const cdataEnd = source.indexOf(']]>', from);
    if (cdataEnd !== -1 && cdataEnd < to) fail('XML_MALFORMED', cdataEnd, "']]>' is not allowed in text");
  };

  /** Parses a start tag at `from` (a `<` followed by a name). */
  const readStartTag = (from: number): MutableElement => {
    const nameEnd = readName(from + 1);
    const name = source.slice(from + 1, nameEnd);
    if (name === '' || !isNameStart(name.charCodeAt(0))) fail('XML_MALFORMED', from + 1, "'<' is not followed by an element name");
    const attributes: XmlAttribute[] = [];
    let i = nameEnd;
    for (;;) {
      const afterName = i;
      i = skipSpace(i);
      const c = source.charCodeAt(i);
      if (i >= n) fail('XML_MALFORMED', from, `the start tag <${name}> is not closed`);
      if (c === GT) return { name, start: from, nameEnd, tagClose: i, openEnd: i + 1, selfClosing: false, closeStart: -1, end: -1, attributes, children: [] };
      if (c === SLASH) {
        if (source.charCodeAt(i + 1) !== GT) fail('XML_MALFORMED', i, `'/' in the start tag <${name}> is not followed by '>'`);
        return { name, start: from, nameEnd, tagClose: i, openEnd: i + 2, selfClosing: true, closeStart: i + 2, end: i + 2, attributes, children: [] };
      }
      if (i === afterName) fail('XML_MALFORMED', i, `attributes of <${name}> must be separated by whitespace`);
      const attrStart = i;
      const attrNameEnd = readName(i);
      const attrName = source.slice(i, attrNameEnd);
      if (attrName === '' || !isNameStart(attrName.charCodeAt(0))) fail('XML_MALFORMED', i, `unexpected character in the start tag <${name}>`);
      i = skipSpace(attrNameEnd);
      if (source.charCodeAt(i) !== EQ) fail('XML_MALFORMED', i, `the attribute ${attrName} of <${name}> has no '=' and value`);
      i = skipSpace(i + 1);
      const quote = source.charCodeAt(i);
      if (quote !== QUOT && quote !== APOS) fail('XML_MALFORMED', i, `the value of ${attrName} in <${name}> is not quoted`);
      const valueStart = i + 1;
      const valueEnd = source.indexOf(quote === QUOT ? '"' : "'", valueStart);
      if (valueEnd === -1) fail('XML_MALFORMED', i, `the value of ${attrName} in <${name}> is not closed`);
      const raw = source.slice(valueStart, valueEnd);
      const lt = raw.indexOf('<');
      if (lt !== -1) fail('XML_MALFORMED', valueStart + lt, `'<' is not allowed in the value of ${attrName}`);
      let value = raw;
      if (raw.indexOf('&') !== -1) {
        const decoded = decodeReferences(raw);
        if (typeof decoded !== 'string') fail('XML_MALFORMED', valueStart + decoded.offset, decoded.message);
        value = decoded as string;
      }
      // XML normalizes whitespace characters in attribute values to spaces (before references are decoded).
      if (/[\t\n\r]/.test(raw)) value = normalizeAttributeWhitespace(raw);
      for (const a of attributes) if (a.name === attrName) fail('XML_MALFORMED', attrStart, `the attribute ${attrName} appears twice in <${name}>`);
      attributes.push({ name: attrName, value, start: attrStart, end: valueEnd + 1, valueStart, valueEnd, quote: quote === QUOT ? '"' : "'" });
      i = valueEnd + 1;
    }
  };

  pos = readMisc(pos, true);
  if (pos >= n) fail('XML_MALFORMED', n, 'there is no root element');
  const root = readStartTag(pos);
  pos = root.openEnd;
  const stack: MutableElement[] = [];
  if (!root.selfClosing) stack.push(root);
  while (stack.length > 0) {
    const parent = stack[stack.length - 1] as MutableElement;
    const lt = source.indexOf('<', pos);
    if (lt === -1) {
      fail('XML_MALFORMED', parent.start, `the element <${parent.name}> is not closed`);
    }
    if (lt > pos) checkText(pos, lt);
    const next = source.charCodeAt(lt + 1);
    if (next === SLASH) {
      const nameEnd = readName(lt + 2);
      const name = source.slice(lt + 2, nameEnd);
      if (name !== parent.name) {
        fail('XML_MALFORMED', lt, name === '' ? `a malformed end tag where </${parent.name}> was expected` : `the end tag </${name}> does not match <${parent.name}>`);
      }
      const close = skipSpace(nameEnd);
      if (source.charCodeAt(close) !== GT) fail('XML_MALFORMED', close, `the end tag </${name}> is not closed with '>'`);
      parent.closeStart = lt;
      parent.end = close + 1;
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
      parent.children.push(child);
      pos = child.openEnd;
      if (!child.selfClosing) stack.push(child);
    }
  }
  readMisc(root.end === -1 ? pos : root.end, false);
  return { source, root, comments };
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
  let child = 0;
  while (pos < element.closeStart) {
    const lt = source.indexOf('<', pos);
    const stop = lt === -1 || lt > element.closeStart ? element.closeStart : lt;
    if (stop > pos) {
      const decoded = decodeReferences(source.slice(pos, stop));
      out += typeof decoded === 'string' ? decoded : source.slice(pos, stop);
    }
    if (stop === element.closeStart) break;
    if (source.startsWith('<!--', stop)) pos = source.indexOf('-->', stop) + 3;
    else if (source.startsWith('<![CDATA[', stop)) {
      const close = source.indexOf(']]>', stop);
      out += source.slice(stop + 9, close);
      pos = close + 3;
    } else if (source.startsWith('<?', stop)) pos = source.indexOf('?>', stop) + 2;
    else {
      const c = element.children[child++];
      pos = c ? c.end : element.closeStart;
    }
  }
  return out.replace(/\r\n?/g, '\n');
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
