import { decodeXml, encodeXml } from '../../src/xml/encoding.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const DECLARED_LATIN1 = "<?xml version='1.0' encoding='ISO-8859-1'?>\n<domain type='qemu'><description>caf\u00e9</description></domain>\n";

test('ISO-8859-1 by its declaration: decoded without a replacement character, and every byte 0x00-0xFF encodes back to itself', () => {
  const bytes = latin1(DECLARED_LATIN1);
  const decoded = decodeXml(bytes, 'a.xml');
  expect(decoded).toEqual({ text: DECLARED_LATIN1, encoding: 'iso-8859-1' });
  expect(decoded.text).not.toContain('\uFFFD');
  expect(encodeXml(decoded.text, decoded.encoding, 'a.xml').equals(bytes)).toBe(true);
  const all = Buffer.concat([latin1("<?xml version='1.0' encoding='latin1'?>"), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
  const round = decodeXml(all, 'all.xml');
  expect(round.encoding).toBe('iso-8859-1');
  expect(encodeXml(round.text, round.encoding, 'all.xml').equals(all)).toBe(true);
});

test('the aliases of ISO-8859-1 and US-ASCII, in either quote and any case, are read', () => {
  for (const name of ['iso-8859-1', 'ISO_8859-1', 'Latin1', 'latin-1', 'L1', 'CP819']) {
    expect(decodeXml(latin1(`<?xml version="1.0" encoding="${name}"?><domain/>`), 'a.xml').encoding).toBe('iso-8859-1');
  }
  expect(decodeXml(latin1("<?xml version='1.0' encoding='US-ASCII'?><domain/>"), 'a.xml').encoding).toBe('us-ascii');
});

test('UTF-8 with and without a BOM: the BOM stays in the text (serializing keeps it) and the bytes come back exactly', () => {
  const text = "\uFEFF<?xml version='1.0' encoding='UTF-8'?>\r\n<domain><title>\u6f22\u5b57 \u{1F600}</title></domain>";
  const bytes = Buffer.from(text, 'utf8');
  expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  const decoded = decodeXml(bytes, 'a.xml');
  expect(decoded).toEqual({ text, encoding: 'utf-8' });
  expect(encodeXml(decoded.text, 'utf-8', 'a.xml').equals(bytes)).toBe(true);
  expect(decodeXml(Buffer.from('<domain/>'), 'a.xml')).toEqual({ text: '<domain/>', encoding: 'utf-8' });
});

test('UTF-16 with a byte order mark, little and big endian, round-trips byte for byte', () => {
  const text = "\uFEFF<?xml version='1.0' encoding='UTF-16'?>\n<domain><name>caf\u00e9</name></domain>\n";
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.from(text, 'utf16le').swap16();
  expect(decodeXml(le, 'le.xml')).toEqual({ text, encoding: 'utf-16le' });
  expect(decodeXml(be, 'be.xml')).toEqual({ text, encoding: 'utf-16be' });
  expect(encodeXml(text, 'utf-16le', 'le.xml').equals(le)).toBe(true);
  expect(encodeXml(text, 'utf-16be', 'be.xml').equals(be)).toBe(true);
});

test('bytes that are not UTF-8 are refused in one sentence naming the file, the byte and its line, never decoded with U+FFFD', () => {
  const bytes = latin1("<domain>\n<name>x</name>\n<description>caf\u00e9</description></domain>");
  expect(() => decodeXml(bytes, 't/a.xml')).toThrow(expect.objectContaining({
    code: 'FILE_UNREADABLE',
    message: "t/a.xml is not valid UTF-8 (byte 0xE9 on line 3); if it is ISO-8859-1, say so in its XML declaration (<?xml version='1.0' encoding='ISO-8859-1'?>), or convert it to UTF-8",
  }));
  // a U+FFFD written in the file is valid UTF-8 and not what is blamed
  const withReplacement = Buffer.concat([Buffer.from('<domain>\uFFFD\n'), Buffer.from([0xc3, 0x28]), Buffer.from('</domain>')]);
  expect(() => decodeXml(withReplacement, 'b.xml')).toThrow('b.xml is not valid UTF-8 (byte 0xC3 on line 2)');
  const declared = Buffer.concat([Buffer.from("<?xml version='1.0' encoding='UTF-8'?><domain>"), Buffer.from([0xff]), Buffer.from('</domain>')]);
  expect(() => decodeXml(declared, 'c.xml')).toThrow('c.xml is not valid UTF-8 (byte 0xFF on line 1); convert it to UTF-8 or make its XML declaration say its real encoding');
});

test('other encodings, contradictions and impossible characters are refused in one sentence', () => {
  expect(() => decodeXml(latin1("<?xml version='1.0' encoding='windows-1252'?><domain/>"), 'w.xml')).toThrow(
    "w.xml declares encoding='windows-1252', which virt-nested does not read (it reads UTF-8, ISO-8859-1, US-ASCII and UTF-16 with a byte order mark); convert it to UTF-8 (iconv -f windows-1252 -t UTF-8) and change the declaration",
  );
  expect(() => decodeXml(latin1("<?xml version='1.0' encoding='UTF-16'?><domain/>"), 'u.xml')).toThrow(
    "u.xml declares encoding='utf-16' but has no UTF-16 byte order mark (its declaration is readable as ASCII); make the declaration say the file's real encoding",
  );
  expect(() => decodeXml(latin1("<?xml version='1.0' encoding='US-ASCII'?>\n<domain>caf\u00e9</domain>"), 'a.xml')).toThrow(
    "a.xml declares encoding='us-ascii' but byte 0xE9 on line 2 is not ASCII; make the declaration say the file's real encoding",
  );
  expect(() => decodeXml(Buffer.from("\uFEFF<?xml version='1.0' encoding='ISO-8859-1'?><domain/>"), 'b.xml')).toThrow(
    "b.xml starts with a UTF-8 byte order mark but its XML declaration says encoding='iso-8859-1'; make them agree",
  );
  expect(() => decodeXml(Buffer.from([0xff, 0xfe, 0x3c]), 'odd.xml')).toThrow('odd.xml starts with a UTF-16LE byte order mark but is not valid UTF-16');
  expect(() => encodeXml('<domain>\u20ac</domain>', 'iso-8859-1', 'e.xml')).toThrow(expect.objectContaining({
    code: 'FILE_UNWRITABLE',
    message: 'e.xml is ISO-8859-1, which cannot hold the character U+20AC of line 1; it was left as it was',
  }));
});
