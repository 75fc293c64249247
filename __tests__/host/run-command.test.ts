import { runCommand } from '../../src/host/run-command.js';

test('output as printed, and the exit code', async () => {
  expect(await runCommand('sh', ['-c', 'printf "a\\n\\n"; printf oops >&2; exit 3'])).toEqual({ stdout: 'a\n\n', stderr: 'oops', exitCode: 3 });
});

test('never a shell: arguments reach the program as they are', async () => {
  const odd = ['$HOME', '; rm -rf /', '-n', 'a b', "it's", '`id`'];
  expect(await runCommand('printf', ['%s|', ...odd])).toEqual({ stdout: `${odd.join('|')}|`, stderr: '', exitCode: 0 });
});

test('a missing program is exit 127 with a sentence, not a throw', async () => {
  expect(await runCommand('vn-no-such-program', ['x'])).toEqual({ stdout: '', stderr: 'vn-no-such-program: command not found', exitCode: 127 });
});

test('a program that runs too long is stopped: exit 124', async () => {
  const result = await runCommand('sleep', ['10'], { timeout: 200 });
  expect(result).toEqual({ stdout: '', stderr: 'sleep: timed out after 200 ms', exitCode: 124 });
});

test('stdin from input', async () => {
  expect(await runCommand('cat', [], { input: 'hello' })).toEqual({ stdout: 'hello', stderr: '', exitCode: 0 });
});

test('a program killed by a signal: 128 + its number', async () => {
  expect((await runCommand('sh', ['-c', 'kill -9 $$'])).exitCode).toBe(137);
});
