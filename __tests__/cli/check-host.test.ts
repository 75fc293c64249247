import { existsSync, readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { checkHost, runCommand } from '../../src/host/index.js';
import { fixtureRoot } from '../host/fixture-trees.js';

function capture(env: NodeJS.ProcessEnv): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env, isTTY: false, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

// libvirt's test driver has no domcapabilities: a "cannot check" that is the same on every machine.
const TEST_URI = 'test:///default';
const NO_DOMCAPS = '– libvirt gave no answer about CPU modes for kvm guests (this function is not supported by the connection driver: virConnectGetDomainCapabilities)\n';

test('nested on: the checklist, and exit 0', async () => {
  const io = capture({ VIRT_NESTED_ROOT: fixtureRoot('intel-nested-on') });
  expect(await main(['check-host', '-c', TEST_URI], io)).toBe(0);
  expect(io.out).toBe(
    '✓ the CPU is x86_64 (GenuineIntel)\n' +
      '✓ the CPU has the vmx flag (Intel VT-x)\n' +
      '✓ kvm_intel is loaded\n' +
      "✓ kvm_intel's nested parameter reads Y\n" +
      '✓ /etc/modprobe.d/kvm.conf line 1 sets nested=1 for kvm_intel at the next load\n' +
      '✓ /dev/kvm is present\n' +
      NO_DOMCAPS +
      'verdict: nested virtualization is on in this host\n',
  );
  expect(io.err).toBe('');
});

test('nested off: each problem with its fix, and exit 1', async () => {
  const io = capture({ VIRT_NESTED_ROOT: fixtureRoot('intel-nested-off'), LIBVIRT_DEFAULT_URI: TEST_URI });
  expect(await main(['check-host'], io)).toBe(1);
  expect(io.out).toBe(
    '✓ the CPU is x86_64 (GenuineIntel)\n' +
      '✓ the CPU has the vmx flag (Intel VT-x)\n' +
      '✓ kvm_intel is loaded\n' +
      "✗ kvm_intel's nested parameter reads N\n" +
      '  fix: run: virt-nested enable-host --reload\n' +
      "– no modprobe.d file sets nested for kvm_intel, so the kernel's default applies at the next load\n" +
      '  fix: to keep nested on across reloads and reboots, run: virt-nested enable-host\n' +
      '✓ /dev/kvm is present\n' +
      NO_DOMCAPS +
      'verdict: nested virtualization is off in this host\n',
  );
});

test('aarch64: the limitation said plainly, exit 1', async () => {
  const io = capture({ VIRT_NESTED_ROOT: fixtureRoot('aarch64') });
  expect(await main(['check-host'], io)).toBe(1);
  expect(io.out.split('\n').slice(0, 2)).toEqual(['✗ nested virtualization is only supported on x86, and this CPU is aarch64', '  fix: run nested guests on an x86 host']);
});

test('--json prints exactly the report', async () => {
  const root = fixtureRoot('intel-nested0-override-in-later-file');
  const io = capture({ VIRT_NESTED_ROOT: root });
  expect(await main(['check-host', '--json', '-c', TEST_URI], io)).toBe(1);
  const report = await checkHost({ root, run: runCommand, uri: TEST_URI });
  expect(io.out).toBe(`${JSON.stringify(report, null, 2)}\n`);
  expect(JSON.parse(io.out)).toMatchObject({ ok: false, persistent: { verdict: 'off' } });
});

test('usage errors exit 2 with one line', async () => {
  const two = capture({ VIRT_NESTED_ROOT: fixtureRoot('intel-nested-on') });
  expect(await main(['check-host', '-c', 'a', '-c', 'b'], two)).toBe(2);
  expect([two.out, two.err]).toEqual(['', 'virt-nested: check-host takes one -c URI, because it looks at the machine it runs on\n']);
  const extra = capture({ VIRT_NESTED_ROOT: fixtureRoot('intel-nested-on') });
  expect(await main(['check-host', 'web-1'], extra)).toBe(2);
  expect(extra.out).toBe('');
});

test('a root without /proc/cpuinfo: one sentence, exit 2', async () => {
  const io = capture({ VIRT_NESTED_ROOT: '/nonexistent-vn-root' });
  expect(await main(['check-host'], io)).toBe(2);
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
