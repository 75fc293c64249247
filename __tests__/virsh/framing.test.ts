import { FrameReader, commandStdout, findStderrEnd, findStdoutEnd, frameCommand, libvirtErrors } from '../../src/virsh/framing.js';

const frame = frameCommand("dumpxml --domain 'a b'", 'abc123');

describe('frameCommand', () => {
  test('writes the command, then one marker line that quotes the token', () => {
    expect(frame.input).toBe("dumpxml --domain 'a b'\necho --err vnx'abc123'; echo vnx'abc123'\n");
    expect(frame.token).toBe('vnxabc123');
    expect(frame.input.includes(frame.token)).toBe(false);
  });

  test('refuses a nonce that would need quoting', () => {
    expect(() => frameCommand('uri', "a'b")).toThrow(RangeError);
  });
});

describe('findStdoutEnd / findStderrEnd', () => {
  test('find the end of this frame only, leaving the next prompt in the buffer', () => {
    const stdout = Buffer.from(`virsh # ${frame.line}\n<x/>\nvirsh # ${frame.markerLine}\nvnxabc123virsh # `);
    const end = findStdoutEnd(stdout, frame);
    expect(stdout.subarray(end).toString()).toBe('virsh # ');
    expect(findStdoutEnd(Buffer.from(`virsh # ${frame.markerLine}\n`), frame)).toBe(-1);
  });

  test('split stderr into the command part and the marker line', () => {
    const stderr = Buffer.from("error: failed to get domain 'a b'\nerror: vnxabc123\nnext");
    const found = findStderrEnd(stderr, frame);
    expect(found).toBeDefined();
    expect(stderr.subarray(0, found?.commandEnd).toString()).toBe("error: failed to get domain 'a b'\n");
    expect(stderr.subarray(found?.end).toString()).toBe('next');
    expect(findStderrEnd(Buffer.from('error: vnxabc12'), frame)).toBeUndefined();
  });
});

describe('commandStdout', () => {
  const wrap = (head: string, output: string, tail = `virsh # ${frame.markerLine}\n`): string => `${head}${output}${tail}vnxabc123`;

  test.each([
    ['XML with a final newline', '<domain>\n  <name>a b</name>\n</domain>\n'],
    ['echo output without a newline', 'vnx'],
    ['empty output', ''],
    ['output that itself holds a prompt', 'virsh # looks like a prompt\n'],
    ['non-ASCII', 'ü日本\n'],
  ])('returns %s byte for byte when the echo is exact', (_what, output) => {
    expect(commandStdout(wrap(`virsh # ${frame.line}\n`, output), frame)).toBe(output);
  });

  test('returns the output when readline scrolled the echo (TERM unset, long line)', () => {
    expect(commandStdout(wrap("virsh # \r<omain 'a b'\n", 'out\n'), frame)).toBe('out\n');
  });

  test('returns the output when a C locale shows non-ASCII in octal', () => {
    const asciiFrame = frameCommand("echo 'ü'", 'f00');
    const chunk = `virsh # echo '\\303\\274'\nü virsh # ${asciiFrame.markerLine}\nvnxf00`;
    expect(commandStdout(chunk, asciiFrame)).toBe('ü ');
  });

  test('cuts at the last prompt when the marker echo is not exact', () => {
    expect(commandStdout(wrap(`virsh # ${frame.line}\n`, 'out\n', 'virsh # echo --err mangled\n'), frame)).toBe('out\n');
  });
});

describe('libvirtErrors', () => {
  test('reads each error line without its prefix and joins continuation lines', () => {
    const stderr = [
      'I/O warning : failed to load external entity "/x.xml"',
      'error: Failed to define domain from /tmp/bad.xml',
      'error: XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domain.rng',
      'Element domain has extra content: bogus',
      '',
      '',
    ].join('\n');
    expect(libvirtErrors(stderr)).toEqual([
      'Failed to define domain from /tmp/bad.xml',
      'XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domain.rng: Element domain has extra content: bogus',
    ]);
  });

  test('finds none in the stderr of a command that succeeded', () => {
    expect(libvirtErrors('')).toEqual([]);
    expect(libvirtErrors('warning: something\n')).toEqual([]);
  });
});

describe('FrameReader', () => {
  test.each([
    ['', 'waiting'],
    ['virs', 'waiting'],
    ['virsh # ', 'prompt'],
    ['virsh # uri\n', 'prompt'],
    ['Please enter your authentication name: ', { asked: 'Please enter your authentication name:' }],
  ] as const)('greeting of %j is %j', (printed, greeting) => {
    const reader = new FrameReader();
    reader.append('stdout', printed);
    expect(reader.greeting()).toEqual(greeting);
  });

  test('takes a frame only once both streams have their marker, however they were split, and keeps what follows', () => {
    const reader = new FrameReader();
    const stdout = Buffer.from(`virsh # ${frame.line}\nü out\nvirsh # ${frame.markerLine}\nvnxabc123virsh # next`);
    const stderr = Buffer.from('warning: x\nerror: vnxabc123\nmore');
    // the token itself split between two pieces: a resumed search must still find it
    const cut = stdout.indexOf('vnxabc123virsh') + 4;
    reader.append('stdout', stdout.subarray(0, 3));
    expect(reader.take(frame)).toBeUndefined();
    reader.append('stdout', stdout.subarray(3, cut));
    expect(reader.take(frame)).toBeUndefined();
    reader.append('stdout', stdout.subarray(cut));
    reader.append('stderr', stderr.subarray(0, 20));
    expect(reader.take(frame)).toBeUndefined();
    reader.append('stderr', stderr.subarray(20));
    expect(reader.take(frame)).toEqual({ stdout: 'ü out\n', stderr: 'warning: x\n' });
    expect(reader.take(frame)).toBeUndefined();
    expect(reader.unclaimedStderr()).toBe('more');
    expect(reader.greeting()).toBe('prompt');
  });
});
