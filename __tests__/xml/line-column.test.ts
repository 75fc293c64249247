import { lineColumnAt } from '../../src/xml/line-column.js';

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
