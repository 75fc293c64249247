/**
 * The lossless layer: a single pass over the source text that checks well-formedness and records the
 * offsets of every element and attribute. Nothing is ever re-serialized from this; edits are splices
 * of the source string (see `splice.ts`).
 */
import { DomainXmlError, type ErrorCode } from '../errors.js';
import type { XmlComment, XmlDocument } from './document.js';
import { decodeReferences } from './entities.js';
import { lineColumnAt, lineIndexOf, type LineIndex } from './line-column.js';
import { describeChar, endsName, invalidNameCharAt, isNameStart } from './name-chars.js';
import {
  A_START, A_STRIDE, A_VALUE_END, A_VALUE_START, CLOSE_START, END, FIRST_ATTRIBUTE, OPEN_END, START, STRIDE, SUBTREE_END,
  elementView, grow, type ScanIndex,
} from './scan-index.js';

/** Limits and labels for a scan. */
export interface ScanOptions {
  /** Refuse input larger than this many bytes of UTF-8 (default 10 MiB). */
  readonly maxBytes?: number;
  /** A file name to put in error messages. */
  readonly file?: string;
}

/** The default size limit: 10 MiB. Real domain XML is a few KiB. */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

const LT = 60, GT = 62, SLASH = 47, EQ = 61, QUOT = 34, APOS = 39, BANG = 33, QMARK = 63;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
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
  const root = elementView(index, rootNumber);
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
