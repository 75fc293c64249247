import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVirsh } from '../../src/virsh/session.js';

test("a session leaves the user's own virsh history alone", async () => {
  const cache = mkdtempSync(join(tmpdir(), 'vn-user-cache-'));
  const saved = process.env['XDG_CACHE_HOME'];
  process.env['XDG_CACHE_HOME'] = cache;
  try {
    const session = await openVirsh({ uri: 'qemu:///system' });
    await session.run(['uri']);
    await session.close();
    expect(existsSync(join(cache, 'libvirt', 'virsh', 'history'))).toBe(false);
  } finally {
    if (saved === undefined) delete process.env['XDG_CACHE_HOME'];
    else process.env['XDG_CACHE_HOME'] = saved;
    rmSync(cache, { recursive: true, force: true });
  }
});

test('the private history directory is new for each session and removed after, so nobody can plant a link in it', async () => {
  const session = await openVirsh({ uri: 'qemu:///system' });
  let dir = '';
  try {
    const environ = readFileSync(`/proc/${session.pid}/environ`, 'utf8').split('\0');
    dir = (environ.find((v) => v.startsWith('XDG_CACHE_HOME=')) ?? '').slice('XDG_CACHE_HOME='.length);
    expect(dir.startsWith(join(tmpdir(), 'virt-nested-virsh-'))).toBe(true);
    const info = lstatSync(dir);
    expect([info.isDirectory(), info.mode & 0o777, info.uid]).toEqual([true, 0o700, process.getuid?.()]);
    await session.run(['uri']);
  } finally {
    await session.close();
  }
  expect(existsSync(dir)).toBe(false);
});
