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
