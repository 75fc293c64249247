import { existsSync, readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { checkHost, runCommand } from '../../src/host/index.js';
import { copyFixture, fixtureRoot, removeCopies } from '../host/fixture-trees.js';
import { schemaErrors } from '../helpers/json-schema.js';

afterEach(removeCopies);

function capture(env: NodeJS.ProcessEnv): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env, isTTY: false, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

// libvirt's test driver has no domcapabilities: a "cannot check" that is the same on every machine.
const TEST_URI = 'test:///default';
const NO_DOMCAPS = '– libvirt gave no answer about CPU modes for kvm guests (this function is not supported by the connection driver: virConnectGetDomainCapabilities)\n';

test('nested on: the checklist, and exit 0', async () => {
  const io = capture({});
  expect(await main(['check-host', '-c', TEST_URI, '--root', fixtureRoot('intel-nested-on')], io)).toBe(0);
  expect(io.out).toBe(
    '✓ the CPU is x86_64 (GenuineIntel)\n' +
      '✓ the CPU has the vmx flag (Intel VT-x)\n' +
      '✓ kvm_intel is loaded\n' +
      "✓ kvm_intel's nested parameter reads Y\n" +
      '✓ /etc/modprobe.d/kvm.conf line 1 sets nested=1 for kvm_intel at the next load\n' +
      '✓ the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)\n' +
      '✓ /dev/kvm is present\n' +
      NO_DOMCAPS +
      'verdict: nested virtualization is on in this host\n',
  );
  expect(io.err).toBe('');
});

test('nested off: each problem with its fix, and exit 1', async () => {
  const io = capture({ LIBVIRT_DEFAULT_URI: TEST_URI });
  expect(await main(['check-host', '--root', fixtureRoot('intel-nested-off')], io)).toBe(1);
  expect(io.out).toBe(
    '✓ the CPU is x86_64 (GenuineIntel)\n' +
      '✓ the CPU has the vmx flag (Intel VT-x)\n' +
      '✓ kvm_intel is loaded\n' +
      "✗ kvm_intel's nested parameter reads N\n" +
      '  fix: run: virt-nested enable-host --reload\n' +
      "– no modprobe.d file sets nested for kvm_intel, so the kernel's default applies at the next load\n" +
      '  fix: to keep nested on across reloads and reboots, run: virt-nested enable-host\n' +
      '✓ the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)\n' +
      '✓ /dev/kvm is present\n' +
      NO_DOMCAPS +
      'verdict: nested virtualization is off in this host\n',
  );
});

test('aarch64: the limitation said plainly, exit 1', async () => {
  const io = capture({});
  expect(await main(['check-host', '--root', fixtureRoot('aarch64')], io)).toBe(1);
  expect(io.out.split('\n').slice(0, 2)).toEqual(['✗ nested virtualization is only supported on x86, and this CPU is aarch64', '  fix: run nested guests on an x86 host']);
});

test('--json prints exactly the report', async () => {
  const root = fixtureRoot('intel-nested0-override-in-later-file');
  const io = capture({});
  expect(await main(['check-host', '--json', '-c', TEST_URI, '--root', root], io)).toBe(1);
  const report = await checkHost({ root, run: runCommand, uri: TEST_URI });
  expect(io.out).toBe(`${JSON.stringify({ schemaVersion: 1, ...report }, null, 2)}\n`);
  expect(JSON.parse(io.out)).toMatchObject({ schemaVersion: 1, ok: false, persistent: { verdict: 'off' } });
  expect(schemaErrors('check-host', JSON.parse(io.out))).toEqual([]);
});

test('--json validates against the schema on every fixture host, and the schema can fail', async () => {
  for (const name of ['intel-nested-on', 'amd-nested-0', 'intel-module-not-loaded', 'no-vmx-svm', 'aarch64', 'amd-ubuntu-nested-1', 'amd-debian-6.1.170-nested-1']) {
    const io = capture({});
    await main(['check-host', '--json', '-c', TEST_URI, '--root', fixtureRoot(name)], io);
    expect([name, schemaErrors('check-host', JSON.parse(io.out))]).toEqual([name, []]);
  }
  expect(schemaErrors('check-host', { schemaVersion: 1, ok: true, checks: [{ id: 'x', status: 'fine', message: '' }] })).toEqual(['/checks/0/status: must be equal to one of the allowed values']);
});

test('a kernel without the fixes while nested is on: exit 1, the CVEs named, and a verdict that does not say "off"', async () => {
  const io = capture({});
  expect(await main(['check-host', '-c', TEST_URI, '--root', fixtureRoot('amd-debian-6.1.170-nested-1')], io)).toBe(1);
  expect(io.out.split('\n').slice(4, 7)).toEqual([
    "– no modprobe.d file sets nested for kvm_amd, so the kernel's default applies at the next load",
    "✗ the kernel 6.1.0-47-amd64 (upstream 6.1.170) lacks the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape), and nested virtualization is on: a guest allowed nested virtualization can escape to the host through use-after-frees in KVM/x86's shadow MMU",
    '  fix: upgrade the kernel to 6.1.177 or later and reboot, or turn nesting off until then: virt-nested disable-host --reload',
  ]);
  expect(io.out.endsWith('verdict: nested virtualization is on in this host, on a kernel without the fixes of a known escape\n')).toBe(true);
});

test('an error with --json is still one JSON document, with the sentence on stderr too', async () => {
  const io = capture({});
  expect(await main(['check-host', '--json', '--root', '/nonexistent-vn-root'], io)).toBe(2);
  const message = '/nonexistent-vn-root/proc/cpuinfo does not exist, so the CPU cannot be checked; mount /proc and run again';
  expect(JSON.parse(io.out)).toEqual({ schemaVersion: 1, ok: false, checks: [], error: { code: 'FILE_UNREADABLE', message } });
  expect(schemaErrors('check-host', JSON.parse(io.out))).toEqual([]);
  expect(io.err).toBe(`virt-nested: ${message}\n`);
});

test('VIRT_NESTED_ROOT is no longer read: only --root points the command elsewhere', async () => {
  const root = await copyFixture('aarch64');
  const io = capture({ VIRT_NESTED_ROOT: root });
  await main(['check-host'], io);
  expect(io.out).not.toContain('aarch64');
});

test('usage errors exit 2 with one line', async () => {
  const two = capture({});
  expect(await main(['check-host', '-c', 'a', '-c', 'b', '--root', fixtureRoot('intel-nested-on')], two)).toBe(2);
  expect([two.out, two.err]).toEqual(['', 'virt-nested: check-host takes one -c URI, because it looks at the machine it runs on\n']);
  const extra = capture({});
  expect(await main(['check-host', 'web-1', '--root', fixtureRoot('intel-nested-on')], extra)).toBe(2);
  expect(extra.out).toBe('');
});

test('a root without /proc/cpuinfo: one sentence, exit 2', async () => {
  const io = capture({});
  expect(await main(['check-host', '--root', '/nonexistent-vn-root'], io)).toBe(2);
  expect(io.err).toBe('virt-nested: /nonexistent-vn-root/proc/cpuinfo does not exist, so the CPU cannot be checked; mount /proc and run again\n');
});

test('this machine, for real: exit 1 when the CPU lacks its virtualization flag, which is named', async () => {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
  const flag = /^vendor_id\s*:\s*GenuineIntel/m.test(cpuinfo) ? 'vmx' : 'svm';
  const io = capture({});
  const code = await main(['check-host'], io);
  if (!flags.includes(flag)) {
    expect(code).toBe(1);
    expect(io.out).toContain(`✗ the CPU has no ${flag} flag`);
    expect(io.out).toContain(`${existsSync('/dev/kvm') ? '✓ /dev/kvm is present' : '✗ /dev/kvm is missing'}`);
  }
  expect(io.out.endsWith(`verdict: nested virtualization is ${code === 0 ? 'on' : 'off'} in this host\n`)).toBe(true);
});
