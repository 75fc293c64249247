/**
 * XML 1.0's rules for names, which the scanner checks and the index's views use to find where a name
 * ends: what ends a name, what may start one, and which character of a name XML does not allow.
 */

/** The char codes of the XML punctuation that ends a name. */
const LT = 60, GT = 62, SLASH = 47, EQ = 61, QUOT = 34, APOS = 39;

/**
 * Whether the char code `c` ends a name: whitespace, XML punctuation, or the end of the text (NaN).
 *
 * @example
 * endsName('='.charCodeAt(0)) // true
 */
export function endsName(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === GT || c === SLASH || c === EQ ||
    c === LT || c === QUOT || c === APOS || Number.isNaN(c);
}

/**
 * Whether the char code `c` may start a name (the quick test; {@link invalidNameCharAt} is the full one).
 *
 * @example
 * isNameStart('d'.charCodeAt(0)) // true
 */
export function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0;
}

/**
 * The offset just after the name that starts at `from` in `source`.
 *
 * @example
 * nameEnd("<cpu mode='x'/>", 1) // 4
 */
export function nameEnd(source: string, from: number): number {
  let i = from;
  while (i < source.length && !endsName(source.charCodeAt(i))) i++;
  return i;
}

// XML 1.0 (fifth edition) §2.3 NameStartChar and NameChar, by code point.
const NAME_START_CHAR = /[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]/u;
const NAME_CHAR = /[-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]/u;
const ASCII_NAME = /^[A-Za-z_:][-.0-9A-Za-z_:]*$/;

/**
 * The offset in `name` of its first character that XML 1.0 does not allow there, or -1 when `name` is
 * an XML name. libxml2 refuses such names, so a template that the scanner took would fail in libvirt.
 *
 * @example
 * invalidNameCharAt('1cpu') // 0
 */
export function invalidNameCharAt(name: string): number {
  if (ASCII_NAME.test(name)) return -1;
  let i = 0;
  for (const char of name) {
    if (!(i === 0 ? NAME_START_CHAR : NAME_CHAR).test(char)) return i;
    i += char.length;
  }
  return name === '' ? 0 : -1;
}

/**
 * A character of a name as a message shows it: printable ones quoted, others as U+XXXX.
 *
 * @example
 * describeChar('\u00a0') // 'U+00A0'
 */
export function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\x21-\x7e]$/.test(char) ? `'${char}'` : hex;
}
