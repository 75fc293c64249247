import { lineColumnAt, lineIndexOf } from '../../src/xml/line-column.js';

test.each([
  ['abc', 0, 1, 1],
  ['abc', 2, 1, 3],
  ['a\nbc', 2, 2, 1],
  ['a\nbc', 3, 2, 2],
  ['a\r\nbc', 2, 1, 3],
  ['a\r\nbc', 3, 2, 1],
  ['\n\n\tx', 3, 3, 2],
  ['ab', 2, 1, 3],
])('%j at %d is line %d column %d', (text, offset, line, column) => {
  expect(lineColumnAt(text, offset)).toEqual({ line, column });
});

test('a line index gives what lineColumnAt gives, at every offset, and counts lines', () => {
  const text = 'a\n\nbc\r\n\tdef\n';
  const index = lineIndexOf(text);
  expect(index.lines).toBe(5);
  for (let offset = 0; offset <= text.length; offset++) expect(index.lineColumnAt(offset)).toEqual(lineColumnAt(text, offset));
  expect(lineIndexOf('').lineColumnAt(0)).toEqual({ line: 1, column: 1 });
});

test('a line index of 200 000 lines answers 200 000 positions (it grows past its first capacity)', () => {
  const text = 'x\n'.repeat(200_000);
  const index = lineIndexOf(text);
  expect(index.lines).toBe(200_001);
  let sum = 0;
  for (let line = 0; line < 200_000; line++) sum += index.lineColumnAt(line * 2 + 1).line;
  expect(sum).toBe((200_000 * 200_001) / 2);
});
