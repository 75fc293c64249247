import { applySplices } from '../../src/xml/splice.js';

test('applies splices in offset order and keeps everything else', () => {
  expect(applySplices('0123456789', [
    { start: 8, end: 9, text: 'X' },
    { start: 2, end: 2, text: '<ins>' },
    { start: 4, end: 6, text: '' },
  ])).toBe('01<ins>2367X9');
});

test('two insertions at one offset keep the order they were given in', () => {
  expect(applySplices('ab', [{ start: 1, end: 1, text: '1' }, { start: 1, end: 1, text: '2' }, { start: 1, end: 2, text: '' }])).toBe('a12');
});

test('no splices give the source back', () => {
  expect(applySplices('same', [])).toBe('same');
});

test('overlapping splices are a programming error', () => {
  expect(() => applySplices('0123456789', [{ start: 2, end: 5, text: '' }, { start: 4, end: 6, text: '' }]))
    .toThrow('overlapping splices at offset 4');
});
