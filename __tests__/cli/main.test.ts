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

test('an unknown command exits 2 with one line and no stack', async () => {
  const io = capture();
  expect(await main(['no-such-command'], io)).toBe(2);
  expect(io.err).toBe("error: unknown command 'no-such-command'\n(run with --help for usage)\n");
});
