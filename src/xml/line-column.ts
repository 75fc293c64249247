/** A 1-based line and column in a text. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/**
 * The 1-based line and column of `offset` in `text` (columns count UTF-16 code units, a tab is one).
 * It reads the text up to `offset`: for many offsets in one text, build a {@link LineIndex} once.
 *
 * @example
 * lineColumnAt('a\nbc', 3) // { line: 2, column: 2 }
 */
export function lineColumnAt(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  let at = text.indexOf('\n');
  while (at !== -1 && at < offset) {
    line++;
    lineStart = at + 1;
    at = text.indexOf('\n', lineStart);
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Positions in one text, from the starts of its lines found in one pass: lint asks for the position of
 * every problem, and a rescan per problem would make it quadratic.
 *
 * @example
 * const index: LineIndex = lineIndexOf(text);
 */
export interface LineIndex {
  /** The number of lines (a text without a newline has one). */
  readonly lines: number;
  /** The 1-based line and column of `offset`, as {@link lineColumnAt} gives them, by a binary search. */
  lineColumnAt(offset: number): LineColumn;
}

/**
 * Indexes the line starts of `text`.
 *
 * @example
 * lineIndexOf('a\nbc').lineColumnAt(3) // { line: 2, column: 2 }
 */
export function lineIndexOf(text: string): LineIndex {
  let starts = new Int32Array(64);
  let count = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    if (count === starts.length) {
      const grown = new Int32Array(starts.length * 2);
      grown.set(starts);
      starts = grown;
    }
    starts[count++] = at + 1;
  }
  return {
    lines: count,
    lineColumnAt(offset) {
      let low = 0;
      let high = count - 1;
      // the last line start at or before the offset
      while (low < high) {
        const middle = (low + high + 1) >>> 1;
        if ((starts[middle] as number) <= offset) low = middle;
        else high = middle - 1;
      }
      return { line: low + 1, column: offset - (starts[low] as number) + 1 };
    },
  };
}
