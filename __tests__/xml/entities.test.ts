import { decodeReferences, escapeAttribute } from '../../src/xml/entities.js';

describe('decodeReferences', () => {
  test.each([
    ['', ''],
    ['plain', 'plain'],
    ['a &amp; b', 'a & b'],
    ['&lt;&gt;&quot;&apos;', `<>"'`],
    ['&#65;&#x42;&#x1f600;', 'AB😀'],
    ['&amp;amp;', '&amp;'],
  ])('%j decodes to %j', (raw, decoded) => {
    expect(decodeReferences(raw)).toBe(decoded);
  });

  test.each([
    ['x &nbsp; y', 2, 'the entity &nbsp; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)'],
    ['&', 0, "an '&' that does not start a reference (write &amp;)"],
    ['a&b c;', 1, "an '&' that does not start a reference (write &amp;)"],
    ['&#1;', 0, 'the character reference &#1; is not a valid XML character'],
    ['&#xD800;', 0, 'the character reference &#xD800; is not a valid XML character'],
    ['&#x110000;', 0, 'the character reference &#x110000; is not a valid XML character'],
    ['&#;', 0, 'the character reference &#; is not a valid XML character'],
  ])('%j is refused at offset %d', (raw, offset, message) => {
    expect(decodeReferences(raw)).toEqual({ offset, message });
  });
});

describe('escapeAttribute', () => {
  test('escapes markup, the quote in use, and whitespace that a parser would fold', () => {
    expect(escapeAttribute(`a<b>&"c'\t\n\r`, "'")).toBe(`a&lt;b&gt;&amp;"c&apos;&#9;&#10;&#13;`);
    expect(escapeAttribute(`a<b>&"c'\t\n\r`, '"')).toBe(`a&lt;b&gt;&amp;&quot;c'&#9;&#10;&#13;`);
  });

  test('leaves non-ASCII alone', () => {
    expect(escapeAttribute('Grüße ☃ 😀', "'")).toBe('Grüße ☃ 😀');
  });
});
