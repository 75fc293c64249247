/**
 * Bytes to text and back for domain XML, by the document's own encoding (its byte order mark, else
 * its XML declaration, else UTF-8), so that a template is never silently re-encoded: decoding refuses
 * what is not valid in that encoding (no replacement character is ever made up), and encoding gives
 * back, for every character not edited, the very bytes it came from.
 */
import { VirtNestedError } from '../errors.js';
import { lineColumnAt } from './line-column.js';

/**
 * The encodings virt-nested reads and writes: those libvirt's own tools and editors write templates in.
 *
 * @example
 * const encoding: XmlEncoding = 'iso-8859-1';
 */
export type XmlEncoding = 'utf-8' | 'iso-8859-1' | 'us-ascii' | 'utf-16le' | 'utf-16be';

/**
 * A decoded document: its text (a byte order mark kept as U+FEFF, so that serializing keeps it) and
 * the encoding to write it back in.
 *
 * @example
 * const { text, encoding } = decodeXml(bytes, 'web.xml');
 */
export interface DecodedXml {
  readonly text: string;
  readonly encoding: XmlEncoding;
}

/** Names of the encodings in XML declarations (IANA names and aliases, lower case). */
const DECLARED: Readonly<Record<string, XmlEncoding | 'utf-16'>> = {
  'utf-8': 'utf-8', utf8: 'utf-8',
  'iso-8859-1': 'iso-8859-1', 'iso_8859-1': 'iso-8859-1', 'iso8859-1': 'iso-8859-1', latin1: 'iso-8859-1',
  'latin-1': 'iso-8859-1', l1: 'iso-8859-1', 'iso-ir-100': 'iso-8859-1', cp819: 'iso-8859-1', ibm819: 'iso-8859-1',
  'us-ascii': 'us-ascii', ascii: 'us-ascii', 'iso646-us': 'us-ascii',
  'utf-16': 'utf-16', 'utf-16le': 'utf-16le', 'utf-16be': 'utf-16be',
};

/** `encoding='…'` in an XML declaration at the very start (read as Latin-1: the declaration is ASCII). */
const DECLARATION = /^<\?xml\s[^?>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/;

/** The encoding named by the declaration of text decoded so far, lower case, if any. */
function declaredEncoding(head: string): string | undefined {
  return DECLARATION.exec(head.replace(/^\uFEFF/, ''))?.[2]?.toLowerCase();
}

function refuse(name: string, why: string): never {
  throw new VirtNestedError('FILE_UNREADABLE', `${name} ${why}`);
}

/** Where the first byte that is not UTF-8 is, for the message (only called once decoding failed). */
function invalidUtf8At(bytes: Uint8Array): number {
  const loose = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let offset = 0;
  let from = 0;
  for (let i = loose.indexOf('\uFFFD'); i !== -1; i = loose.indexOf('\uFFFD', i + 1)) {
    offset += Buffer.byteLength(loose.slice(from, i), 'utf8');
    from = i;
    // a U+FFFD written in the file is three bytes EF BF BD; anything else is where decoding gave up
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return offset;
  }
  return offset;
}

/**
 * Decodes a domain XML file's bytes: a UTF-8 or UTF-16 byte order mark decides, else the XML
 * declaration's `encoding` (UTF-8, ISO-8859-1 and its aliases, US-ASCII), else UTF-8. Throws a
 * `FILE_UNREADABLE` {@link VirtNestedError} naming `name` for bytes that are not valid in that encoding
 * and for any other declared encoding.
 *
 * @example
 * decodeXml(Buffer.from("<?xml version='1.0' encoding='ISO-8859-1'?><domain>caf\xe9</domain>", 'latin1'), 'a.xml').text
 * // "<?xml version='1.0' encoding='ISO-8859-1'?><domain>café</domain>"
 */
export function decodeXml(bytes: Uint8Array, name: string): DecodedXml {
  const b0 = bytes[0], b1 = bytes[1];
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    const encoding: XmlEncoding = b0 === 0xff ? 'utf-16le' : 'utf-16be';
    let text: string;
    try {
      text = new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      return refuse(name, `starts with a ${encoding === 'utf-16le' ? 'UTF-16LE' : 'UTF-16BE'} byte order mark but is not valid UTF-16 (an odd number of bytes or an unpaired surrogate); convert it to UTF-8`);
    }
    const declared = declaredEncoding(text.slice(0, 200));
    if (declared !== undefined && !DECLARED[declared]?.startsWith('utf-16')) {
      refuse(name, `starts with a UTF-16 byte order mark but its XML declaration says encoding='${declared}'; make them agree`);
    }
    return { text, encoding };
  }
  const hasUtf8Bom = b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf;
  const headStart = hasUtf8Bom ? 3 : 0;
  const declared = declaredEncoding(Buffer.from(bytes.buffer, bytes.byteOffset + headStart, Math.max(0, Math.min(bytes.byteLength - headStart, 200))).toString('latin1'));
  const encoding = declared === undefined ? 'utf-8' : DECLARED[declared];
  if (encoding === undefined) {
    return refuse(name, `declares encoding='${declared}', which virt-nested does not read (it reads UTF-8, ISO-8859-1, US-ASCII and UTF-16 with a byte order mark); convert it to UTF-8 (iconv -f ${declared} -t UTF-8) and change the declaration`);
  }
  if (encoding === 'utf-16' || encoding === 'utf-16le' || encoding === 'utf-16be') {
    return refuse(name, `declares encoding='${declared}' but has no UTF-16 byte order mark (its declaration is readable as ASCII); make the declaration say the file's real encoding`);
  }
  if (hasUtf8Bom && encoding !== 'utf-8') {
    return refuse(name, `starts with a UTF-8 byte order mark but its XML declaration says encoding='${declared}'; make them agree`);
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === 'iso-8859-1') return { text: buffer.toString('latin1'), encoding };
  if (encoding === 'us-ascii') {
    const high = bytes.findIndex((byte) => byte > 0x7f);
    if (high !== -1) {
      const { line } = lineColumnAt(buffer.toString('latin1'), high);
      refuse(name, `declares encoding='${declared}' but byte 0x${(bytes[high] as number).toString(16).toUpperCase()} on line ${line} is not ASCII; make the declaration say the file's real encoding`);
    }
    return { text: buffer.toString('latin1'), encoding };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    const at = invalidUtf8At(bytes);
    const { line } = lineColumnAt(buffer.toString('latin1'), at);
    const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    const how = declared === undefined
      ? "if it is ISO-8859-1, say so in its XML declaration (<?xml version='1.0' encoding='ISO-8859-1'?>), or convert it to UTF-8"
      : 'convert it to UTF-8 or make its XML declaration say its real encoding';
    return refuse(name, `is not valid UTF-8 (byte 0x${byte} on line ${line}); ${how}`);
  }
}

/**
 * Encodes text in a document's encoding: the inverse of {@link decodeXml}, byte for byte for every
 * character that was decoded. Throws a `FILE_UNWRITABLE` {@link VirtNestedError} naming `name` when the
 * text holds a character the encoding cannot carry (rather than writing a substitute).
 *
 * @example
 * encodeXml('café', 'iso-8859-1', 'a.xml') // <Buffer 63 61 66 e9>
 */
export function encodeXml(text: string, encoding: XmlEncoding, name: string): Buffer {
  const limit = encoding === 'iso-8859-1' ? 0xff : encoding === 'us-ascii' ? 0x7f : undefined;
  if (limit !== undefined) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > limit) {
        const { line } = lineColumnAt(text, i);
        throw new VirtNestedError('FILE_UNWRITABLE', `${name} is ${encoding === 'us-ascii' ? 'US-ASCII' : 'ISO-8859-1'}, which cannot hold the character U+${c.toString(16).toUpperCase().padStart(4, '0')} of line ${line}; it was left as it was`);
      }
    }
    return Buffer.from(text, 'latin1');
  }
  if (encoding === 'utf-16le') return Buffer.from(text, 'utf16le');
  if (encoding === 'utf-16be') return Buffer.from(text, 'utf16le').swap16();
  return Buffer.from(text, 'utf8');
}
