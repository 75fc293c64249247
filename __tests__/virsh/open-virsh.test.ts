import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../e2e/run-cli.js';

// In its own process, with TMPDIR pointing at an empty directory: Node's os.tmpdir() reads the real
// environment, which a jest test cannot change.
test('an already aborted signal starts no virsh and leaves no history directory behind', () => {
  const temp = mkdtempSync(join(tmpdir(), 'vn-open-aborted-'));
  try {
    const script = [
      `import { openVirsh } from ${JSON.stringify(join(ROOT, 'dist/lib/index.js'))};`,
      "openVirsh({ uri: 'qemu:///system', signal: AbortSignal.abort() }).then(() => console.log('opened'), (error) => console.log(error.code, error.message));",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TMPDIR: temp } });
    expect([run.stdout, run.stderr]).toEqual(['ABORTED virsh was not started for qemu:///system because the operation was aborted\n', '']);
    expect(readdirSync(temp)).toEqual([]);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

// A session may adopt a virsh started earlier (the CLI's executable starts one before the CLI loads).
test('what a virsh printed before anyone listened, even one that has exited, reaches the first listener, in order', async () => {
  const { spawnVirsh, virshEnvironment } = await import('../../src/virsh/virsh-process.js');
  const virsh = spawnVirsh('sh', ['-c', 'printf "one "; printf "two"; echo "refused: why" >&2; exit 3'], virshEnvironment());
  expect(await virsh.exited).toEqual({ exitCode: 3 });
  const out: string[] = [];
  const err: string[] = [];
  virsh.stdout.on('data', (data) => out.push(String(data)));
  virsh.stderr.on('data', (data) => err.push(String(data)));
  expect([out.join(''), err.join('')]).toEqual(['one two', 'refused: why\n']);
});

test('a session adopting a virsh that could not connect and has exited names libvirt\'s own reason', async () => {
  const { startVirsh } = await import('../../src/virsh/start-virsh.js');
  const { openVirsh } = await import('../../src/virsh/session.js');
  const started = startVirsh({ uri: 'qemu+tcp://127.0.0.1:1/system' });
  await started.process.exited;
  await expect(openVirsh({ started })).rejects.toMatchObject({
    code: 'LIBVIRT_UNREACHABLE',
    message: "cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system: unable to connect to server at '127.0.0.1:1': Connection refused",
  });
});
