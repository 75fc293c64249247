/** A 1-based line and column in a text. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/**
 * The 1-based line and column of `offset` in `text` (columns count UTF-16 code units, a tab is one).
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
