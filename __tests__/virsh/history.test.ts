import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
