import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDomain } from '../../src/domain/parse-domain.js';
import { serializeDomain } from '../../src/domain/serialize-domain.js';
import type { Domain } from '../../src/domain/types.js';

const CORPUS = fileURLToPath(new URL('../../fixtures/libvirt-9.0.0/domains/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/domains/', import.meta.url));

const xmlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.xml')).sort().map((f) => dir + f);

/** The files whose text does not come back byte for byte. */
function roundTripFailures(files: readonly string[]): string[] {
  const failures: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (serializeDomain(parseDomain(text)) !== text) failures.push(file);
  }
  return failures;
}

test('every corpus file (libvirt 9.0.0 dumpxml output) comes back byte for byte', () => {
  const files = xmlFiles(CORPUS);
  expect(files).toHaveLength(486);
  expect(roundTripFailures(files)).toEqual([]);
});

test('every fixture comes back byte for byte', () => {
  const files = xmlFiles(FIXTURES);
  expect(files).toHaveLength(17);
  expect(roundTripFailures(files)).toEqual([]);
});

test.each([
  ['a BOM and a declaration', '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<domain/>'],
  ['CRLF and trailing whitespace', "<domain type='kvm'>\r\n  <name>a</name>  \r\n</domain>\r\n\r\n"],
  ['comments and PIs outside the root', '<!-- a -->\n<?pi x?>\n<domain/>\n<!-- b -->'],
  ['attribute spacing', `<domain  type =\t"kvm"\n  id= '1' ></domain >`],
  ['a single line without a final newline', '<domain><name>x</name></domain>'],
  ['references kept as written', "<domain><name>&#x41;&#66;&amp;</name><title a='&apos;'>&quot;</title></domain>"],
])('%s', (_, text) => {
  expect(serializeDomain(parseDomain(text))).toBe(text);
});

test('an object not made by parseDomain is refused with a TypeError', () => {
  const domain = parseDomain('<domain/>');
  const copy = { ...domain } as Domain;
  expect(() => serializeDomain(copy)).toThrow(new TypeError('not a Domain from parseDomain (build one with parseDomain(xml))'));
});
