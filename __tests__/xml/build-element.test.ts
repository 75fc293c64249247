import fc from 'fast-check';
import { create } from 'xmlbuilder2';
import { buildAttributes, buildEmptyElement } from '../../src/xml/build-element.js';
import { scanXml } from '../../src/xml/scan.js';

/** Characters XML allows in a document (what a domain's text and attributes can hold). */
const XML_CHAR = /^[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const special = fc.constantFrom('"', "'", '<', '>', '&', '&amp;', '&#38;', ';', ' ', 'a', 'é', 'ß', '☃', '😀', '\u00A0', ']]>');
/** Attribute values rich in what needs escaping, plus any Unicode. */
const value = (withWhitespace: boolean) => fc.oneof(
  fc.string({ unit: special, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('\t', '\n', '\r', '\r\n', ' ', 'x'), maxLength: 6 }),
).filter((v) => XML_CHAR.test(v) && (withWhitespace || !/[\t\n\r]/.test(v)));

const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,8}$/).filter((n) => !n.startsWith('xml'));
const attributes = (withWhitespace: boolean) =>
  fc.uniqueArray(fc.tuple(name, value(withWhitespace)), { selector: ([n]) => n, maxLength: 5 });

/** xmlbuilder2 leaves `&name;` and `&#N;` in a value as written (it takes them for references already escaped). */
const LOOKS_ESCAPED = /&([A-Za-z]+|#\d+);/;

const decoded = (markup: string) => scanXml(markup).root.attributes.map((a) => [a.name, a.value]);

test('buildEmptyElement in double quotes is byte-identical to xmlbuilder2', () => {
  fc.assert(fc.property(attributes(false).filter((attrs) => attrs.every(([, v]) => !LOOKS_ESCAPED.test(v))), (attrs) => {
    const theirs = create().ele('cpu', Object.fromEntries(attrs)).end({ headless: true });
    expect(buildEmptyElement('cpu', attrs, '"')).toBe(theirs);
  }), { numRuns: 300 });
});

test('buildEmptyElement in either quote reads back (through scanXml) as the values given, tabs and newlines included', () => {
  fc.assert(fc.property(attributes(true), fc.constantFrom<"'" | '"'>("'", '"'), (attrs, quote) => {
    const markup = buildEmptyElement('cpu', attrs, quote);
    expect(decoded(markup)).toEqual(attrs);
    expect(scanXml(markup).root.attributes.every((a) => a.quote === quote)).toBe(true);
  }), { numRuns: 300 });
});

test('xmlbuilder2 writes a tab, newline or CR raw, which a reader folds to a space; ours survive', () => {
  const attrs: [string, string][] = [['v', 'a\tb\nc\rd']];
  expect(decoded(create().ele('cpu', Object.fromEntries(attrs)).end({ headless: true }))).toEqual([['v', 'a b c d']]);
  expect(buildEmptyElement('cpu', attrs, "'")).toBe("<cpu v='a&#9;b&#10;c&#13;d'/>");
  expect(decoded(buildEmptyElement('cpu', attrs, "'"))).toEqual(attrs);
});

test('xmlbuilder2 leaves a value that looks escaped as it is, so it reads back changed; ours reads back as given', () => {
  const attrs: [string, string][] = [['v', '&amp; &#38;']];
  expect(decoded(create().ele('cpu', Object.fromEntries(attrs)).end({ headless: true }))).toEqual([['v', '& &']]);
  expect(buildEmptyElement('cpu', attrs, '"')).toBe('<cpu v="&amp;amp; &amp;#38;"/>');
  expect(decoded(buildEmptyElement('cpu', attrs, '"'))).toEqual(attrs);
});

test('exact output for the element setCpuMode inserts', () => {
  expect(buildEmptyElement('cpu', [['mode', 'host-model'], ['check', 'partial']], "'")).toBe("<cpu mode='host-model' check='partial'/>");
  expect(buildEmptyElement('cpu', [['mode', 'host-passthrough'], ['check', 'partial']], '"')).toBe('<cpu mode="host-passthrough" check="partial"/>');
  expect(buildEmptyElement('cpu', [], "'")).toBe('<cpu/>');
  expect(buildAttributes([['check', `it's "x"`]], "'")).toBe(` check='it&apos;s "x"'`);
});

test('a name that is not an XML name is refused, never written', () => {
  expect(() => buildAttributes([['a b', 'x']], "'")).toThrow(new TypeError('not an XML attribute name: "a b"'));
  expect(() => buildEmptyElement('cpu', [["x='1' y", 'x']], "'")).toThrow(TypeError);
});
