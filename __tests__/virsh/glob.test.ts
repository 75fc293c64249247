import { VirtNestedError } from '../../src/errors.js';
import { globMatcher } from '../../src/virsh/glob.js';

const NAMES = [']', 'a', 'z', 'web-1', 'web-12', 'db-1', '.hidden', '!web', 'Web-2', 'a b', 'x[1]'];
const matching = (glob: string) => NAMES.filter(globMatcher(glob));

test.each([
  ['web-*', ['web-1', 'web-12']],
  ['web-?', ['web-1']],
  ['[]]', [']']],
  ['[[:alpha:]]', ['a', 'z']],
  ['[[:upper:]]*', ['Web-2']],
  ['[!a-y]', [']', 'z']],
  ['[^a-y]', [']', 'z']],
  ['*', NAMES],
  ['!web', ['!web']],
  ['{web,db}-1', ['web-1', 'db-1']],
  ['a b', ['a b']],
  ['x\\[1\\]', ['x[1]']],
])('%s matches as a shell would: %j', (glob, expected) => {
  expect(matching(glob)).toEqual(expected);
});

test.each([
  ['[z-a]', "--match '[z-a]' is not a valid glob: the range z-a is reversed, so it matches nothing; write it low-high"],
  ['web-[0-', "--match 'web-[0-' is not a valid glob: a [ is not closed by ]; quote a literal [ as \\["],
])('%s is a usage error naming the pattern', (glob, message) => {
  expect(() => globMatcher(glob)).toThrow(new VirtNestedError('USAGE', message));
});
