import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostFs } from '../../src/host/host-fs.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vn-hostfs-'));
  await mkdir(join(root, 'etc/modprobe.d'), { recursive: true });
  await mkdir(join(root, 'srv'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

test('absolute and relative links resolve under the root, never on the machine running the code', async () => {
  await writeFile(join(root, 'srv/kvm.conf'), 'options kvm_amd nested=1\n');
  await symlink('/srv/kvm.conf', join(root, 'etc/modprobe.d/a.conf'));
  await symlink('a.conf', join(root, 'etc/modprobe.d/b.conf'));
  // /etc/hostname exists on the real machine: under the root it does not
  await symlink('/etc/hostname', join(root, 'etc/modprobe.d/c.conf'));
  const fs = createHostFs(root);
  expect(await fs.resolve('/etc/modprobe.d/b.conf')).toEqual({ path: '/srv/kvm.conf', kind: 'file', linked: true });
  expect(await fs.readText('/etc/modprobe.d/b.conf')).toBe('options kvm_amd nested=1\n');
  expect(await fs.resolve('/etc/modprobe.d/c.conf')).toEqual({ path: '/etc/hostname', kind: undefined, linked: true });
  expect(await fs.readText('/etc/modprobe.d/c.conf')).toBeUndefined();
  expect(await fs.exists('/etc/modprobe.d/c.conf')).toBe(true);
});

test('a loop of links ends, as the kernel would, after 40 hops', async () => {
  await symlink('y.conf', join(root, 'etc/modprobe.d/x.conf'));
  await symlink('x.conf', join(root, 'etc/modprobe.d/y.conf'));
  const fs = createHostFs(root);
  expect((await fs.resolve('/etc/modprobe.d/x.conf')).kind).toBeUndefined();
  expect(await fs.readText('/etc/modprobe.d/x.conf')).toBeUndefined();
});

test('write replaces the file it is given atomically (callers pass a resolved path); remove ignores a missing file', async () => {
  await writeFile(join(root, 'srv/kvm.conf'), 'old\n');
  await symlink('/srv/kvm.conf', join(root, 'etc/modprobe.d/kvm.conf'));
  const fs = createHostFs(root);
  const target = await fs.resolve('/etc/modprobe.d/kvm.conf');
  await fs.write(target.path, 'new\n', 0o600);
  expect(await readFile(join(root, 'srv/kvm.conf'), 'utf8')).toBe('new\n');
  expect(await readlink(join(root, 'etc/modprobe.d/kvm.conf'))).toBe('/srv/kvm.conf');
  expect(await fs.mode('/etc/modprobe.d/kvm.conf')).toBe(0o600);
  await fs.remove('/nothing/here');
});
