import { parseDomain } from '../../src/domain/parse-domain.js';
import { positionsOf } from '../../src/domain/positions.js';

test('the root, the <cpu>, its attributes and its <feature>s in the order of domain.cpu.features', () => {
  const domain = parseDomain([
    "<domain type='kvm'>",
    '  <name>a</name>',
    "  <cpu mode='custom'\tcheck='full'>",
    "    <model>qemu64</model><feature policy='disable' name='vmx'/>",
    '    <!-- a comment -->',
    "\t<feature name='svm'/>",
    '  </cpu>',
    '</domain>',
  ].join('\r\n'));
  expect(domain.cpu?.features.map((f) => f.name)).toEqual(['vmx', 'svm']);
  expect(positionsOf(domain)).toEqual({
    root: { line: 1, column: 1 },
    cpu: {
      element: { line: 3, column: 3 },
      attributes: { mode: { line: 3, column: 8 }, check: { line: 3, column: 22 } },
      features: [{ line: 4, column: 26 }, { line: 6, column: 2 }],
    },
  });
  // found once: the same frozen object every time
  expect(positionsOf(domain)).toBe(positionsOf(domain));
  expect(Object.isFrozen(positionsOf(domain).cpu?.features)).toBe(true);
});

test('a domain without <cpu> has only the root', () => {
  expect(positionsOf(parseDomain("\uFEFF<?xml version='1.0'?>\n<domain/>"))).toEqual({ root: { line: 2, column: 1 }, cpu: undefined });
});
