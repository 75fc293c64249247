/** The five entities XML predefines; no other named entity exists in a document without a DOCTYPE. */
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** What decoding a reference found wrong, with its offset relative to the decoded text's start. */
export interface ReferenceProblem {
  readonly offset: number;
  readonly message: string;
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/**
 * Decodes character and predefined entity references in `raw` (text or an attribute value).
 * Returns the decoded string, or a problem for a malformed or undefined reference.
 *
 * @example
 * decodeReferences('a &amp; b &#x41;') // 'a & b A'
 */
export function decodeReferences(raw: string): string | ReferenceProblem {
  let at = raw.indexOf('&');
  if (at === -1) return raw;
  let out = '';
  let from = 0;
  while (at !== -1) {
    const semi = raw.indexOf(';', at + 1);
    if (semi === -1) return { offset: at, message: "an '&' that does not start a reference (write &amp;)" };
    const body = raw.slice(at + 1, semi);
    let text: string | undefined;
    if (body.startsWith('#')) {
      const hex = body.startsWith('#x');
      const digits = body.slice(hex ? 2 : 1);
      const valid = hex ? /^[0-9a-fA-F]+$/.test(digits) : /^[0-9]+$/.test(digits);
      const code = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
      if (!valid || !isXmlChar(code)) return { offset: at, message: `the character reference &${body}; is not a valid XML character` };
      text = String.fromCodePoint(code);
    } else {
      text = PREDEFINED[body];
      if (text === undefined) {
        return /^[A-Za-z_:][\w.:-]*$/.test(body)
          ? { offset: at, message: `the entity &${body}; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)` }
          : { offset: at, message: "an '&' that does not start a reference (write &amp;)" };
      }
    }
    out += raw.slice(from, at) + text;
    from = semi + 1;
    at = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

/**
 * Escapes `value` for an attribute written between `quote` characters.
 *
 * @example
 * escapeAttribute(`it's`, "'") // 'it&apos;s'
 */
export function escapeAttribute(value: string, quote: "'" | '"'): string {
  let out = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
  out = quote === "'" ? out.replace(/'/g, '&apos;') : out.replace(/"/g, '&quot;');
  return out;
}
