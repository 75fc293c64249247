/**
 * The unified diff of a guest's definition, as `virt-xml --print-diff` prints it.
 */
import { createTwoFilesPatch } from 'diff';

/**
 * A unified diff from `before` to `after` headed `--- Original XML` / `+++ Altered XML`, as
 * `virt-xml --print-diff` writes it; '' when they are equal.
 *
 * @example
 * definitionDiff(xml, edited) // "--- Original XML\n+++ Altered XML\n@@ -5,7 +5,7 @@\n…"
 */
export function definitionDiff(before: string, after: string): string {
  if (before === after) return '';
  // createTwoFilesPatch starts with an "Index"/"====" header that virt-xml does not print
  return createTwoFilesPatch('Original XML', 'Altered XML', before, after, undefined, undefined, { context: 3 }).replace(/^[^]*?(?=^--- )/m, '');
}
