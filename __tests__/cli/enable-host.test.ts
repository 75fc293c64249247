import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { copyFixture, removeCopies } from '../host/fixture-trees.js';
import { schemaErrors } from '../helpers/json-schema.js';

afterEach(removeCopies);

function capture(env: NodeJS.ProcessEnv): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env, isTTY: false, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

const KVM_CONF = 'etc/modprobe.d/kvm.conf';

test('writes kvm.conf and says so; the second run changes nothing', async () => {
  const root = await copyFixture('intel-nested-off');
  const io = capture({});
  expect(await main(['enable-host', '--root', root], io)).toBe(0);
  expect(io.out).toBe(
    '✓ the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)\n' +
    '✓ created /etc/modprobe.d/kvm.conf, which sets nested=1 for kvm_intel\n' +
      '– kvm_intel was not reloaded, so nested=1 applies at its next load\n' +
      '  fix: run: virt-nested enable-host --reload\n',
  );
  expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_intel nested=1\n');
  const mtime = (await stat(join(root, KVM_CONF))).mtimeMs;
  const again = capture({});
  expect(await main(['enable-host', '--root', root], again)).toBe(0);
  expect(again.out.split('\n')[1]).toBe('✓ /etc/modprobe.d/kvm.conf already turns nested on for kvm_intel');
  expect((await stat(join(root, KVM_CONF))).mtimeMs).toBe(mtime);
});

test('--dry-run prints the plan with a diff and changes nothing', async () => {
  const root = await copyFixture('intel-kvm-conf-with-other-options');
  const before = await readFile(join(root, KVM_CONF), 'utf8');
  const io = capture({});
  expect(await main(['enable-host', '--dry-run', '--root', root], io)).toBe(0);
  expect(io.out).toBe(
    '✓ the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)\n' +
    '– would update /etc/modprobe.d/kvm.conf to set nested=1 for kvm_intel\n' +
      '– kvm_intel was not reloaded, so nested=1 applies at its next load\n' +
      '  fix: run: virt-nested enable-host --reload\n' +
      '--- /etc/modprobe.d/kvm.conf\n' +
      '+++ /etc/modprobe.d/kvm.conf\n' +
      '@@ -1,3 +1,3 @@\n' +
      ' # KVM options for this host\n' +
      '-options kvm_intel nested=0 enable_apicv=1\n' +
      '+options kvm_intel nested=1 enable_apicv=1\n' +
      ' options kvm ignore_msrs=1\n' +
      'dry run: nothing was changed\n',
  );
  expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe(before);
});

test('--dry-run of a new file diffs from /dev/null', async () => {
  const root = await copyFixture('amd-nested-1');
  const io = capture({});
  expect(await main(['enable-host', '--dry-run', '--root', root], io)).toBe(0);
  expect(io.out).toContain('--- /dev/null\n+++ /etc/modprobe.d/kvm.conf\n@@ -0,0 +1,1 @@\n+options kvm_amd nested=1\ndry run: nothing was changed\n');
  expect(await readdir(root)).not.toContain('etc');
});

test('a nested=0 left in a later file: exit 1; with --fix-conflicts: exit 0', async () => {
  const root = await copyFixture('intel-nested0-override-in-later-file');
  const io = capture({});
  expect(await main(['enable-host', '--root', root], io)).toBe(1);
  expect(io.out).toBe(
    '✓ the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)\n' +
    '✓ /etc/modprobe.d/kvm.conf already turns nested on for kvm_intel\n' +
      '✗ /etc/modprobe.d/zz-local.conf line 2 sets nested=0 for kvm_intel after /etc/modprobe.d/kvm.conf, so nested stays off at the next load\n' +
      '  fix: run: virt-nested enable-host --fix-conflicts\n' +
      "✓ kvm_intel's nested parameter already reads Y\n",
  );
  const fixed = capture({});
  expect(await main(['enable-host', '--fix-conflicts', '--root', root], fixed)).toBe(0);
  expect(fixed.out.split('\n')[2]).toBe('✓ commented out nested=0 for kvm_intel in /etc/modprobe.d/zz-local.conf line 2, which overrode /etc/modprobe.d/kvm.conf');
  expect(await main(['check-host', '-c', 'test:///default', '--root', root], capture({}))).toBe(0);
});

// --dry-run as well: whatever libvirt answers, a test never runs the real modprobe.
test('--reload while the kernel counts the module in use: exit 1, the guest named from libvirt (its test driver always runs "test"), nothing changed', async () => {
  const root = await copyFixture('intel-kvm-conf-with-other-options');
  await writeFile(join(root, 'sys/module/kvm_intel/refcnt'), '1\n');
  const before = await readFile(join(root, KVM_CONF), 'utf8');
  const io = capture({});
  expect(await main(['enable-host', '--reload', '--dry-run', '-c', 'test:///default', '--root', root], io)).toBe(1);
  expect([io.out, io.err]).toEqual([
    '',
    'virt-nested: guest "test" is running on test:///default, so kvm_intel was not reloaded and nothing was changed; shut it down first (virsh -c test:///default shutdown --domain test) or run without --reload\n',
  ]);
  expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe(before);
  const json = capture({});
  expect(await main(['enable-host', '--reload', '--dry-run', '--json', '-c', 'test:///default', '--root', root], json)).toBe(1);
  const document = JSON.parse(json.out) as { ok: boolean; error: { code: string }; checks: Array<{ id: string; status: string }> };
  expect(schemaErrors('enable-host', document)).toEqual([]);
  expect([document.ok, document.error.code, document.checks.map((c) => [c.id, c.status])]).toEqual([
    false,
    'GUESTS_RUNNING',
    [['kernel-advisory', 'ok'], ['reload', 'problem']],
  ]);
});

test('--reload with nothing holding the module plans the reload even when libvirt runs guests (TCG guests hold no module)', async () => {
  const root = await copyFixture('intel-kvm-conf-with-other-options');
  const io = capture({});
  expect(await main(['enable-host', '--reload', '--dry-run', '-c', 'test:///default', '--root', root], io)).toBe(0);
  expect(io.out).toContain('– would reload kvm_intel: modprobe -r kvm_intel, then modprobe kvm_intel\n');
});

test('a kernel without the fixes: refused with exit 1 and nothing written; --json prints the refused report; --allow-vulnerable-kernel goes ahead', async () => {
  const root = await copyFixture('amd-debian-6.1.170-nested-1');
  const io = capture({});
  expect(await main(['enable-host', '--root', root], io)).toBe(1);
  expect(io.out).toBe('');
  expect(io.err).toBe(
    "virt-nested: the kernel 6.1.0-47-amd64 (upstream 6.1.170) lacks the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape) (a guest allowed nested virtualization can escape to the host through use-after-frees in KVM/x86's shadow MMU), so enable-host changed nothing; upgrade the kernel to 6.1.177 or later and reboot, or accept the risk with --allow-vulnerable-kernel\n",
  );
  expect(await readdir(root)).not.toContain('etc');
  const json = capture({});
  expect(await main(['enable-host', '--json', '--dry-run', '--root', root], json)).toBe(1);
  const document = JSON.parse(json.out) as Record<string, unknown>;
  expect(schemaErrors('enable-host', document)).toEqual([]);
  expect(document).toMatchObject({ schemaVersion: 1, ok: false, changes: [], error: { code: 'KERNEL_VULNERABLE' }, checks: [{ id: 'kernel-advisory', status: 'problem' }] });
  const allowed = capture({});
  expect(await main(['enable-host', '--allow-vulnerable-kernel', '--root', root], allowed)).toBe(0);
  expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_amd nested=1\n');
});

test('not x86: refused, exit 1', async () => {
  const root = await copyFixture('aarch64');
  const io = capture({});
  expect(await main(['enable-host', '--root', root], io)).toBe(1);
  expect(io.err).toBe('virt-nested: nested virtualization is only supported on x86, and this CPU is aarch64, so enable-host changed nothing\n');
});

test('libvirt unreachable never refuses: enable-host needs no libvirt', async () => {
  const root = await copyFixture('intel-nested-off');
  const io = capture({});
  expect(await main(['enable-host', '--reload', '--dry-run', '-c', 'qemu+unix:///system?socket=/nonexistent', '--root', root], io)).toBe(0);
  expect(io.err).toBe('');
});

test('--json prints exactly the result', async () => {
  const root = await copyFixture('amd-nested-0');
  const io = capture({});
  expect(await main(['enable-host', '--json', '--root', root], io)).toBe(0);
  const result = JSON.parse(io.out) as Record<string, unknown>;
  expect(schemaErrors('enable-host', result)).toEqual([]);
  expect(result).toMatchObject({
    schemaVersion: 1,
    ok: true,
    dryRun: false,
    module: 'kvm_amd',
    path: '/etc/modprobe.d/kvm.conf',
    changes: [{ path: '/etc/modprobe.d/kvm.conf', target: '/etc/modprobe.d/kvm.conf', before: 'options kvm-amd nested=0\n', after: 'options kvm-amd nested=1\n', mode: 0o644 }],
    conflicts: [],
    commands: [],
    reload: 'not-requested',
    nested: '0',
  });
  expect(io.out).toBe(`${JSON.stringify(result, null, 2)}\n`);
});

test('--reload with --root DIR is refused (modprobe would act on the running kernel), except in a dry run', async () => {
  const root = await copyFixture('intel-nested-off');
  for (const command of ['enable-host', 'disable-host']) {
    const io = capture({});
    expect(await main([command, '--reload', '--root', root], io)).toBe(2);
    expect([io.out, io.err]).toEqual([
      '',
      `virt-nested: ${command} --reload reloads the module of the running kernel, so it cannot be used with --root ${root}; drop --reload (the new value applies when that machine boots), or add --dry-run to see the plan\n`,
    ]);
  }
  expect(await readdir(root)).not.toContain('etc');
});
