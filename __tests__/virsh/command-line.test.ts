import { VirtNestedError } from '../../src/errors.js';
import { assertVirshArgument, quoteVirshArgument, virshCommandLine } from '../../src/virsh/command-line.js';

describe('quoteVirshArgument', () => {
  test.each([
    ['domstate', 'domstate'],
    ['--domain', '--domain'],
    ['web-1', 'web-1'],
    ['/var/lib/x.xml', '/var/lib/x.xml'],
    ['', "''"],
    ['-vn odd name ü', "'-vn odd name ü'"],
    [`it's "quoted"`, `'it'\\''s "quoted"'`],
    ['a;b', "'a;b'"],
    ['#x', "'#x'"],
    ['a\\b', "'a\\b'"],
  ])('%j → %s', (argument, quoted) => {
    expect(quoteVirshArgument(argument)).toBe(quoted);
  });
});

describe('assertVirshArgument', () => {
  test.each([
    ['a\nb', 'U+000A'],
    ['a\rb', 'U+000D'],
    ['a\0b', 'U+0000'],
    ['a\tb', 'U+0009'],
    ['a\u007fb', 'U+007F'],
    ['a\u001b[Ab', 'U+001B'],
  ])('refuses %j with USAGE naming %s', (argument, codePoint) => {
    let caught: unknown;
    try {
      assertVirshArgument(argument);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VirtNestedError);
    expect((caught as VirtNestedError).code).toBe('USAGE');
    expect((caught as VirtNestedError).message).toBe(
      `virsh argument ${JSON.stringify(argument)} holds the control character ${codePoint}, which virsh cannot take; remove it from the name or path`,
    );
  });

  test('accepts spaces, quotes, non-ASCII and a leading dash', () => {
    expect(() => assertVirshArgument(`-vn odd name ü it's "quoted" 日本`)).not.toThrow();
  });
});

describe('virshCommandLine', () => {
  test('quotes each argument and joins them with spaces', () => {
    expect(virshCommandLine(['dumpxml', '--domain', `it's "quoted"`, '--inactive'])).toBe(`dumpxml --domain 'it'\\''s "quoted"' --inactive`);
  });

  test('refuses an empty command and a control character anywhere', () => {
    expect(() => virshCommandLine([])).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => virshCommandLine(['domstate', '--domain', 'x\ny'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
