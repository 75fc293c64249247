/**
 * Shell globs for guest names (`--match 'web-*'`), as a shell reads them: `*`, `?`, `[abc]`, `[a-z]`,
 * `[!a]`/`[^a]`, POSIX classes such as `[[:alpha:]]`, `[]]` for a literal `]`, braces and extglobs;
 * matched with picomatch. A pattern that cannot match as written is a usage error naming it.
 */
import picomatch from 'picomatch';
import { VirtNestedError } from '../errors.js';
import { shellArgument } from './hint.js';

const OPTIONS = {
  // a guest name has no path: '*' also takes a leading '.', and '!' starts no negation
  dot: true,
  bash: true,
  posix: true,
  nonegate: true,
  strictBrackets: true,
} as const;

/** The first `a-b` range inside `[...]` whose ends are reversed (`[z-a]`), or undefined. */
function reversedRange(glob: string): string | undefined {
  for (const bracket of glob.matchAll(/\[!?\^?\]?((?:\[:[a-z]+:\]|[^\]])*)\]/g)) {
    for (const range of (bracket[1] ?? '').matchAll(/(.)-(.)/gu)) {
      const [, from = '', to = ''] = range;
      if (from !== '[' && to !== ']' && (from.codePointAt(0) ?? 0) > (to.codePointAt(0) ?? 0)) return `${from}-${to}`;
    }
  }
  return undefined;
}

/**
 * A test for guest names against a shell glob. Throws a `USAGE` error naming the pattern when it is not
 * a glob (an unclosed `[`) or cannot match anything (a reversed range such as `[z-a]`).
 *
 * @example
 * globMatcher('web-[0-9]*')('web-12') // true
 * globMatcher('[]]')(']')             // true
 */
export function globMatcher(glob: string): (name: string) => boolean {
  const named = `--match ${shellArgument(glob)}`;
  const reversed = reversedRange(glob);
  if (reversed !== undefined) throw new VirtNestedError('USAGE', `${named} is not a valid glob: the range ${reversed} is reversed, so it matches nothing; write it low-high`);
  let pattern: RegExp;
  try {
    pattern = picomatch.makeRe(glob, OPTIONS);
  } catch (error) {
    const reason = (error as Error).message.replace(/ - use .*$/, '').replace(/^Missing closing: "\]"$/, 'a [ is not closed by ]');
    throw new VirtNestedError('USAGE', `${named} is not a valid glob: ${reason}; quote a literal [ as \\[`);
  }
  return (name) => pattern.test(name);
}
