import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

function capture(): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env: {}, isTTY: false, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

test('--version prints the package version and exits 0', async () => {
  const io = capture();
  expect(await main(['--version'], io)).toBe(0);
  expect(io.out).toBe('0.1.0\n');
});

test('an unknown command exits 2 with one sentence in the form of every error, and no stack', async () => {
  const io = capture();
  expect(await main(['no-such-command'], io)).toBe(2);
  expect(io.err).toBe("virt-nested: unknown command 'no-such-command'; run with --help for usage\n");
});

test.each([
  [['set-cpu', 'web-1', '--mode', 'custom'], "virt-nested: option '--mode <mode>' argument 'custom' is invalid. Allowed choices are host-model, host-passthrough; run with --help for usage\n"],
  [['set-cpu', 'web-1', '--nested'], "virt-nested: option '--nested <on|off>' argument missing; run with --help for usage\n"],
  [['--no-such-flag'], "virt-nested: unknown option '--no-such-flag'; run with --help for usage\n"],
])('usage error %j: exit 2, one sentence', async (argv, message) => {
  const io = capture();
  expect(await main(argv, io)).toBe(2);
  expect([io.out, io.err]).toEqual(['', message]);
});

test('-v prints the version, as -V and --version do', async () => {
  for (const flag of ['-v', '-V', '--version']) {
    const io = capture();
    expect(await main([flag], io)).toBe(0);
    expect(io.out).toBe('0.1.0\n');
  }
});

test('set-cpu --help offers --nested on|off and --json-lines, and --mode is optional', async () => {
  const io = capture();
  expect(await main(['set-cpu', '--help'], io)).toBe(0);
  expect(io.out).toContain('--nested <on|off>');
  expect(io.out).toContain('(choices: "on", "off")');
  expect(io.out).toContain('--json-lines');
  expect(io.out).toContain('CPU mode to set (default: host-model)');
});
