/**
 * A document's own formatting habits, read from its text, so inserted markup looks like the rest.
 */
import type { XmlDocument, XmlElement } from './document.js';

/** How a document writes newlines, indentation and attribute quotes. */
export interface XmlStyle {
  readonly newline: '\n' | '\r\n';
  /** One level of indentation ('  ', '\t', …), '' for a document on one line. */
  readonly indentUnit: string;
  readonly quote: "'" | '"';
}

/**
 * The whitespace between the last newline before `element` and the element itself, or undefined when
 * the element does not begin its line.
 *
 * @example
 * indentOf(source, element) // '  '
 */
export function indentOf(source: string, element: XmlElement): string | undefined {
  let i = element.start - 1;
  while (i >= 0) {
    const c = source.charCodeAt(i);
    if (c === 10) return source.slice(i + 1, element.start);
    if (c !== 32 && c !== 9 && c !== 13) return undefined;
    i--;
  }
  return undefined;
}

/**
 * The newline, indentation and quote character that `doc` itself uses (the most frequent quote
 * among its attributes; `'` as libvirt writes when it has none).
 *
 * @example
 * styleOf(scanXml(text)).quote // "'"
 */
export function styleOf(doc: XmlDocument): XmlStyle {
  const { source, root } = doc;
  const crlf = source.indexOf('\r\n');
  const lf = source.indexOf('\n');
  const newline = crlf !== -1 && crlf === lf - 1 ? '\r\n' : '\n';
  let single = 0;
  let double = 0;
  const count = (e: XmlElement, depth: number): void => {
    for (const a of e.attributes) if (a.quote === "'") single++; else double++;
    if (depth < 2) for (const c of e.children) count(c, depth + 1);
  };
  count(root, 0);
  let indentUnit = '';
  const first = root.children[0];
  if (first) {
    const rootIndent = indentOf(source, root) ?? '';
    const childIndent = indentOf(source, first);
    if (childIndent !== undefined && childIndent.startsWith(rootIndent)) indentUnit = childIndent.slice(rootIndent.length);
  }
  return { newline, indentUnit, quote: double > single ? '"' : "'" };
}
