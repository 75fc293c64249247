import { DomainXmlError } from '../../src/errors.js';
import { lineColumnAt } from '../../src/xml/line-column.js';
import type { XmlElement } from '../../src/xml/document.js';
import { attributeOf, childOf, textOf } from '../../src/xml/read-element.js';
import { scanXml, DEFAULT_MAX_BYTES } from '../../src/xml/scan.js';

/** The error scanXml throws for `source`, as plain data. */
function scanError(source: string, options: Parameters<typeof scanXml>[1] = {}) {
  try {
    scanXml(source, options);
  } catch (error) {
    if (!(error instanceof DomainXmlError)) throw error;
    return { code: error.code, line: error.line, column: error.column, message: error.message };
  }
  throw new Error(`scanXml accepted ${JSON.stringify(source)}`);
}

describe('scanXml offsets', () => {
  test('records the exact offsets of elements and attributes', () => {
    const doc = scanXml("<a x='1'><b/><c></c></a>");
    // elements and attributes are views on the scan's index: read every field into a plain object
    const plain = (e: XmlElement): unknown => ({
      name: e.name, start: e.start, nameEnd: e.nameEnd, tagClose: e.tagClose, openEnd: e.openEnd, selfClosing: e.selfClosing,
      closeStart: e.closeStart, end: e.end,
      attributes: e.attributes.map((a) => ({ name: a.name, value: a.value, start: a.start, end: a.end, valueStart: a.valueStart, valueEnd: a.valueEnd, quote: a.quote })),
      children: e.children.map(plain),
    });
    expect(plain(doc.root)).toEqual({
      name: 'a', start: 0, nameEnd: 2, tagClose: 8, openEnd: 9, selfClosing: false, closeStart: 20, end: 24,
      attributes: [{ name: 'x', value: '1', start: 3, end: 8, valueStart: 6, valueEnd: 7, quote: "'" }],
      children: [
        { name: 'b', start: 9, nameEnd: 11, tagClose: 11, openEnd: 13, selfClosing: true, closeStart: 13, end: 13, attributes: [], children: [] },
        { name: 'c', start: 13, nameEnd: 15, tagClose: 15, openEnd: 16, selfClosing: false, closeStart: 16, end: 20, attributes: [], children: [] },
      ],
    });
  });

  test('spaces around = and double quotes are recorded where they stand', () => {
    const source = '<a  x = "1"\ty\n=\r\n\'2\' />';
    const doc = scanXml(source);
    const [x, y] = doc.root.attributes;
    expect(source.slice(x!.start, x!.end)).toBe('x = "1"');
    expect(source.slice(y!.start, y!.end)).toBe("y\n=\r\n'2'");
    expect([x!.quote, y!.quote]).toEqual(['"', "'"]);
    expect(source.slice(doc.root.tagClose, doc.root.end)).toBe('/>');
  });

  test('comments are recorded with their text, outside and inside the root', () => {
    const doc = scanXml('<!-- a --><r><!--b--></r><!---->');
    expect(doc.comments).toEqual([
      { start: 0, end: 10, text: ' a ' },
      { start: 13, end: 21, text: 'b' },
      { start: 25, end: 32, text: '' },
    ]);
  });

  test('a BOM, a declaration, PIs, CDATA and namespaced names are accepted', () => {
    const doc = scanXml('\uFEFF<?xml version="1.0"?>\n<?pi data?>\n<r xmlns:n="urn:n"><n:x n:y="1"/><![CDATA[<not-an-element>]]></r>\n');
    expect(doc.root.children.map((c) => c.name)).toEqual(['n:x']);
    expect(attributeOf(doc.root.children[0]!, 'n:y')).toBe('1');
    expect(textOf(doc, doc.root)).toBe('<not-an-element>');
  });
});

describe('attribute values and text', () => {
  test('references are decoded in attribute values', () => {
    const doc = scanXml(`<a v='&lt;&gt;&amp;&quot;&apos;&#233;&#x1F600;'/>`);
    expect(attributeOf(doc.root, 'v')).toBe(`<>&"'é😀`);
  });

  test('literal whitespace in an attribute value becomes a space, a character reference does not', () => {
    const doc = scanXml("<a v='a&#13;b&#10;c\r\nd\te&#9;f'/>");
    expect(attributeOf(doc.root, 'v')).toBe('a\rb\nc d e\tf');
  });

  test('textOf decodes references, keeps CDATA, skips comments, PIs and child elements', () => {
    const doc = scanXml('<a>x &amp; <!-- no --><b>not mine</b><?pi no?><![CDATA[<&>]]> y</a>');
    expect(textOf(doc, doc.root)).toBe('x & <&> y');
  });

  test('textOf normalizes line ends in the text, but keeps a &#13; reference', () => {
    const doc = scanXml('<a>1\r\n2\r3&#13;4<![CDATA[5\r\n6]]></a>');
    expect(textOf(doc, doc.root)).toBe('1\n2\n3\r45\n6');
  });

  test('textOf of <x/> and <x></x> is empty', () => {
    const doc = scanXml('<r><x/><x></x></r>');
    expect(doc.root.children.map((c) => textOf(doc, c))).toEqual(['', '']);
  });

  test('childOf and attributeOf find the first match or undefined', () => {
    const doc = scanXml("<r><a n='1'/><a n='2'/></r>");
    expect(attributeOf(childOf(doc.root, 'a')!, 'n')).toBe('1');
    expect(childOf(doc.root, 'b')).toBeUndefined();
    expect(attributeOf(doc.root, 'n')).toBeUndefined();
  });
});

describe('scanXml refuses what is not well-formed, with line and column', () => {
  test.each([
    ['', 'XML_MALFORMED', 1, 1, 'there is no root element'],
    ['  \n', 'XML_MALFORMED', 2, 1, 'there is no root element'],
    ['hello', 'XML_MALFORMED', 1, 1, 'text before the root element'],
    ['<a>', 'XML_MALFORMED', 1, 1, 'the element <a> is not closed'],
    ['<a>\n  <b>\n</a>', 'XML_MALFORMED', 3, 1, 'the end tag </a> does not match <b>'],
    ['<a></b>', 'XML_MALFORMED', 1, 4, 'the end tag </b> does not match <a>'],
    ['<a></>', 'XML_MALFORMED', 1, 4, 'a malformed end tag where </a> was expected'],
    ['<a></a', 'XML_MALFORMED', 1, 7, "the end tag </a> is not closed with '>'"],
    ['<a x=1/>', 'XML_MALFORMED', 1, 6, 'the value of x in <a> is not quoted'],
    ["<a x='1/>", 'XML_MALFORMED', 1, 6, 'the value of x in <a> is not closed'],
    ['<a x/>', 'XML_MALFORMED', 1, 5, "the attribute x of <a> has no '=' and value"],
    ["<a x='1'y='2'/>", 'XML_MALFORMED', 1, 9, 'attributes of <a> must be separated by whitespace'],
    ["<a x='1' x='2'/>", 'XML_MALFORMED', 1, 10, 'the attribute x appears twice in <a>'],
    ["<a x='<'/>", 'XML_MALFORMED', 1, 7, "'<' is not allowed in the value of x"],
    ["<a x='&y;'/>", 'XML_MALFORMED', 1, 7, 'the entity &y; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)'],
    ["<a b='1' / >", 'XML_MALFORMED', 1, 10, "'/' in the start tag <a> is not followed by '>'"],
    ['<a', 'XML_MALFORMED', 1, 1, 'the start tag <a> is not closed'],
    ['< a/>', 'XML_MALFORMED', 1, 2, "'<' is not followed by an element name"],
    ['<a><1/></a>', 'XML_MALFORMED', 1, 5, "'<' is not followed by an element name"],
    ["<a 1='x'/>", 'XML_MALFORMED', 1, 4, 'unexpected character in the start tag <a>'],
    ['<a>&foo;</a>', 'XML_MALFORMED', 1, 4, 'the entity &foo; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)'],
    ['<a>&#0;</a>', 'XML_MALFORMED', 1, 4, 'the character reference &#0; is not a valid XML character'],
    ['<a>&#xZZ;</a>', 'XML_MALFORMED', 1, 4, 'the character reference &#xZZ; is not a valid XML character'],
    ['<a>a & b</a>', 'XML_MALFORMED', 1, 6, "an '&' that does not start a reference (write &amp;)"],
    ['<a>a &b c;</a>', 'XML_MALFORMED', 1, 6, "an '&' that does not start a reference (write &amp;)"],
    ['<a>]]></a>', 'XML_MALFORMED', 1, 4, "']]>' is not allowed in text"],
    ['<a><!-- x -- y --></a>', 'XML_MALFORMED', 1, 11, "a comment contains '--', which XML does not allow"],
    ['<a><!-- x ---></a>', 'XML_MALFORMED', 1, 11, "a comment contains '--', which XML does not allow"],
    ['<a><!-- x</a>', 'XML_MALFORMED', 1, 4, 'a comment is not closed (missing -->)'],
    ['<a><![CDATA[x</a>', 'XML_MALFORMED', 1, 4, 'a CDATA section is not closed (missing ]]>)'],
    ['<a><!FOO></a>', 'XML_MALFORMED', 1, 4, "'<!' here is neither a comment nor CDATA"],
    ['<!FOO><a/>', 'XML_MALFORMED', 1, 1, "'<!' here is neither a comment nor a DOCTYPE"],
    ['<a><?pi x</a>', 'XML_MALFORMED', 1, 4, 'a processing instruction is not closed (missing ?>)'],
    ['<a><? x?></a>', 'XML_MALFORMED', 1, 4, "'<?' is not followed by a name"],
    [" <?xml version='1.0'?><a/>", 'XML_MALFORMED', 1, 2, 'the XML declaration is allowed only at the very start'],
    ["<a><?xml version='1.0'?></a>", 'XML_MALFORMED', 1, 4, 'the XML declaration is allowed only at the very start'],
    ['<a>\u0001</a>', 'XML_MALFORMED', 1, 4, 'the character U+0001 is not allowed in XML'],
    ['<a>\uFFFE</a>', 'XML_MALFORMED', 1, 4, 'the character U+FFFE is not allowed in XML'],
    ['<a></a>\nx', 'XML_MALFORMED', 2, 1, 'text after the end of the root element'],
    ['<a></a><b/>', 'XML_MALFORMED', 1, 8, 'markup after the end of the root element (a document has one root)'],
    ['<a/>\n</a>', 'XML_MALFORMED', 2, 1, 'markup after the end of the root element (a document has one root)'],
    ['<a/><', 'XML_MALFORMED', 1, 5, 'markup after the end of the root element (a document has one root)'],
    ['<!DOCTYPE a><a/>', 'XML_DOCTYPE', 1, 1, 'a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)'],
    ['<a/>\n<!DOCTYPE a>', 'XML_DOCTYPE', 2, 1, 'a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)'],
    ['<a>\n <!DOCTYPE a></a>', 'XML_DOCTYPE', 2, 2, 'a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)'],
    ['<a><!ENTITY x "y"></a>', 'XML_DOCTYPE', 1, 4, 'an entity declaration is not allowed in domain XML'],
  ])('%j', (source, code, line, column, message) => {
    expect(scanError(source)).toEqual({ code, line, column, message });
  });

  test('CRLF lines count once, a tab is one column', () => {
    expect(scanError('<a>\r\n\t<b>\r\n\t</c>\r\n</a>')).toEqual({
      code: 'XML_MALFORMED', line: 3, column: 2, message: 'the end tag </c> does not match <b>',
    });
  });

  test('with a file name, the message starts with file:line:column', () => {
    expect(scanError('<a>\n</b>', { file: 'guest.xml' })).toEqual({
      code: 'XML_MALFORMED', line: 2, column: 1, message: 'guest.xml:2:1: the end tag </b> does not match <a>',
    });
  });
});

describe('hostile but well-formed input stays linear', () => {
  const attributes = (count: number) => Array.from({ length: count }, (_, i) => ` a${i}='${i}'`).join('');

  test('a duplicate among many attributes is still found', () => {
    expect(scanError(`<a${attributes(20)} a3='x'/>`)).toEqual({
      code: 'XML_MALFORMED', line: 1, column: 164, message: 'the attribute a3 appears twice in <a>',
    });
    expect(scanError(`<a${attributes(20)} a19='x'/>`).message).toBe('the attribute a19 appears twice in <a>');
    expect(scanXml(`<a${attributes(20)} a20='x'/>`).root.attributes).toHaveLength(21);
  });

  test("'<' and '&' in a value are found after many earlier values", () => {
    expect(scanError(`<a${attributes(30)} z='<'/>`).message).toBe("'<' is not allowed in the value of z");
    expect(scanError(`<r>${"<b x='1'/>".repeat(30)}<b x='&q;'/></r>`).message)
      .toBe('the entity &q; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)');
  });

  // Searching from every value or text node to the next '&', '<' or ']]>' (or comparing every attribute
  // with every other) makes a few MB under the size limit take minutes. The work is counted, not timed:
  // the characters every indexOf passes over, and the lookups in the duplicate-attribute check, stay
  // within a small multiple of the input's length.
  function countingWork<T>(work: () => T): { result: T; scanned: number; lookups: number } {
    const { indexOf } = String.prototype;
    const { has } = Set.prototype;
    let scanned = 0;
    let lookups = 0;
    String.prototype.indexOf = function (this: string, search: string, position?: number): number {
      const from = Math.max(0, Math.min(position ?? 0, this.length));
      const found = indexOf.call(this, search, from);
      scanned += (found === -1 ? this.length : found + search.length) - from;
      return found;
    } as typeof String.prototype.indexOf;
    Set.prototype.has = function (this: Set<unknown>, value: unknown): boolean {
      lookups++;
      return has.call(this, value);
    };
    try {
      return { result: work(), scanned, lookups };
    } finally {
      String.prototype.indexOf = indexOf;
      Set.prototype.has = has;
    }
  }

  test('200 000 attributes in one tag, and 200 000 tags: the work is linear in the input', () => {
    const wide = `<a${attributes(200_000)}/>`;
    const one = countingWork(() => scanXml(wide));
    expect(one.result.root.end).toBe(wide.length);
    expect(one.scanned).toBeLessThanOrEqual(4 * wide.length);
    expect(one.lookups).toBeLessThanOrEqual(200_000);
    const tall = `<r>\n${"  <x a='1' b='2'>t</x>\n".repeat(200_000)}</r>`;
    const many = countingWork(() => scanXml(tall));
    expect(many.result.root.end).toBe(tall.length);
    expect(many.scanned).toBeLessThanOrEqual(4 * tall.length);
  });

  test('textOf an element with 100 000 children (and text between them) is linear too', () => {
    const source = `<r>${'a<x/>'.repeat(100_000)}</r>`;
    const doc = scanXml(source);
    const counted = countingWork(() => textOf(doc, doc.root));
    expect(counted.result).toBe('a'.repeat(100_000));
    expect(counted.scanned).toBeLessThanOrEqual(4 * source.length);
  });
});

describe('size limit', () => {
  test('the default limit is 10 MiB', () => {
    expect(DEFAULT_MAX_BYTES).toBe(10485760);
  });

  test('counts UTF-8 bytes, not characters', () => {
    const source = `<a>${'é'.repeat(20)}</a>`; // 27 characters, 47 bytes
    expect(scanXml(source, { maxBytes: 47 }).root.name).toBe('a');
    expect(scanError(source, { maxBytes: 46 })).toEqual({
      code: 'XML_TOO_LARGE', line: 1, column: 1,
      message: 'the XML is larger than the limit of 46 bytes; domain XML is normally a few KiB',
    });
    expect(scanError(source, { maxBytes: 46, file: 'big.xml' }).message)
      .toBe('big.xml is larger than the limit of 46 bytes; domain XML is normally a few KiB');
  });
});

describe('XML 1.0 name rules (libxml2 refuses what they refuse)', () => {
  test.each([
    ['<na!me/>', 1, 4, "the element name <na!me> is not an XML name ('!' is not allowed in a name)"],
    ['<domain>\n  <na\u00a0me/>\n</domain>', 2, 6, 'the element name <na\u00a0me> is not an XML name (U+00A0 is not allowed in a name)'],
    ['<\u00d7x/>', 1, 2, 'the element name <\u00d7x> is not an XML name (U+00D7 is not allowed at the start of a name)'],
    ['<a\u037e/>', 1, 3, 'the element name <a\u037e> is not an XML name (U+037E is not allowed in a name)'],
    ["<domain t$pe='kvm'/>", 1, 10, "the attribute name t$pe in <domain> is not an XML name ('$' is not allowed in a name)"],
    ["<a b\u00a0c='1'/>", 1, 5, 'the attribute name b\u00a0c in <a> is not an XML name (U+00A0 is not allowed in a name)'],
  ])('%j is refused at %d:%d', (source, line, column, message) => {
    expect(scanError(source)).toEqual({ code: 'XML_MALFORMED', line, column, message });
  });

  test('names libxml2 accepts are accepted: non-ASCII letters, digits and combining marks after the start, astral letters, namespaces', () => {
    const doc = scanXml("<caf\u00e9 x:y-z.1='a' \u00b7a\u0300='b'><\u6f22\u5b57/><\u{10000}a\u203f/><_:x\u00b7/></caf\u00e9>".replace('\u00b7a', 'a\u00b7'));
    expect(doc.root.name).toBe('caf\u00e9');
    expect(doc.root.attributes.map((a) => a.name)).toEqual(['x:y-z.1', 'a\u00b7\u0300']);
    expect(doc.root.children.map((c) => c.name)).toEqual(['\u6f22\u5b57', '\u{10000}a\u203f', '_:x\u00b7']);
  });
});

describe('positions and counts of a scanned document', () => {
  test('lineColumnAt agrees with the one-off lineColumnAt at every offset', () => {
    const source = "<a>\r\n\t<b x='1'/>\n\n  <c>\u6f22</c>\n</a>";
    const doc = scanXml(source);
    for (let offset = 0; offset <= source.length; offset++) expect(doc.lineColumnAt(offset)).toEqual(lineColumnAt(source, offset));
  });

  test('counts elements, attributes and the most attributes on one element', () => {
    expect(scanXml("<domain a='1' b='2'><name/><cpu m='1' c='2' d='3'/></domain>").counts).toEqual({ elements: 3, attributes: 5, mostAttributes: 3 });
    expect(scanXml('<a/>').counts).toEqual({ elements: 1, attributes: 0, mostAttributes: 0 });
  });
});
