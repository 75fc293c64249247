import { scanXml } from '../../src/xml/scan.js';
import { indentOf, styleOf } from '../../src/xml/style.js';

test.each([
  ["<domain type='kvm'>\n  <name>a</name>\n</domain>\n", { newline: '\n', indentUnit: '  ', quote: "'" }],
  ['<domain type="kvm">\r\n\t<name a="1">a</name>\r\n</domain>\r\n', { newline: '\r\n', indentUnit: '\t', quote: '"' }],
  ["<domain><name>a</name></domain>", { newline: '\n', indentUnit: '', quote: "'" }],
  [`<domain a="1" b="2" c='3'>\n    <x/>\n</domain>`, { newline: '\n', indentUnit: '    ', quote: '"' }],
  [`<domain a="1" b='2'>\n <x/>\n</domain>`, { newline: '\n', indentUnit: ' ', quote: "'" }],
  ["<!-- c -->\n  <domain>\n      <x/>\n  </domain>", { newline: '\n', indentUnit: '    ', quote: "'" }],
])('styleOf %j', (source, style) => {
  expect(styleOf(scanXml(source))).toEqual(style);
});

test('indentOf is the whitespace that starts the line, or undefined mid-line', () => {
  const source = '<r>\n\t  <a/><b/>\n</r>';
  const doc = scanXml(source);
  expect(indentOf(source, doc.root.children[0]!)).toBe('\t  ');
  expect(indentOf(source, doc.root.children[1]!)).toBeUndefined();
  expect(indentOf(source, doc.root)).toBeUndefined();
});
