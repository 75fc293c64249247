import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { checkGuest } from '../../src/host/index.js';
import { fixtureRoot } from '../host/fixture-trees.js';
import { schemaErrors } from '../helpers/json-schema.js';

function capture(env: NodeJS.ProcessEnv): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env, isTTY: false, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

test('a guest with vmx: exit 0', async () => {
  const io = capture({});
  expect(await main(['check-guest', '--root', fixtureRoot('guest-vmx')], io)).toBe(0);
  expect(io.out).toBe(
    '✓ the CPU is x86_64 (GenuineIntel)\n' +
      '✓ the CPU has the vmx flag (Intel VT-x), so this machine can run KVM guests of its own\n' +
      '✓ the CPU has the hypervisor flag, so this machine is a guest\n' +
      '✓ /dev/kvm is present\n' +
      'verdict: nested virtualization is available in this machine\n',
  );
});

test('a guest with neither: exit 1, with the fix', async () => {
  const io = capture({});
  expect(await main(['check-guest', '--root', fixtureRoot('guest-neither')], io)).toBe(1);
  expect(io.out).toBe(
    '✓ the CPU is x86_64 (GenuineIntel)\n' +
      '✗ the CPU has neither vmx nor svm, so this machine cannot run KVM guests of its own\n' +
      '  fix: on the host, give this guest a CPU with vmx or svm (virt-nested set-cpu GUEST --mode host-model) and restart it\n' +
      '✓ the CPU has the hypervisor flag, so this machine is a guest\n' +
      '✗ /dev/kvm is missing, so this machine cannot start KVM guests yet\n' +
      '  fix: it appears once the CPU has vmx or svm and the KVM module is loaded\n' +
      'verdict: nested virtualization is not available in this machine\n',
  );
  expect(io.err).toBe('');
});

test('--json prints exactly the report', async () => {
  const root = fixtureRoot('guest-svm');
  const io = capture({});
  expect(await main(['check-guest', '--json', '--root', root], io)).toBe(0);
  expect(io.out).toBe(`${JSON.stringify({ schemaVersion: 1, ...(await checkGuest({ root })) }, null, 2)}\n`);
  expect(schemaErrors('check-guest', JSON.parse(io.out))).toEqual([]);
  const missing = capture({});
  expect(await main(['check-guest', '--json', '--root', '/nonexistent-vn-root'], missing)).toBe(2);
  expect(schemaErrors('check-guest', JSON.parse(missing.out))).toEqual([]);
  expect(JSON.parse(missing.out)).toMatchObject({ ok: false, error: { code: 'FILE_UNREADABLE' } });
});

test('-c without guests is a usage error', async () => {
  const io = capture({});
  expect(await main(['check-guest', '-c', 'test:///default', '--root', fixtureRoot('guest-svm')], io)).toBe(2);
  expect([io.out, io.err]).toEqual(['', 'virt-nested: check-guest with -c or --hosts-file needs GUEST names, --all or --match; without them it checks this machine\n']);
});

test('with a guest name, the running guest is asked instead of this machine', async () => {
  const io = capture({});
  const code = await main(['check-guest', 'vn-no-such-guest', '-c', 'test:///default', '--root', fixtureRoot('guest-vmx')], io);
  expect(io.out).not.toContain('this machine');
  expect(code).toBe(2);
});

test('this machine, for real', async () => {
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
  const has = flags.includes('vmx') || flags.includes('svm');
  const io = capture({});
  expect(await main(['check-guest'], io)).toBe(has ? 0 : 1);
  expect(io.out).toContain(has ? '✓ the CPU has the' : '✗ the CPU has neither vmx nor svm');
});

test('--root with guest names is a usage error', async () => {
  const io = capture({});
  expect(await main(['check-guest', 'web-1', '--root', fixtureRoot('guest-vmx')], io)).toBe(2);
  expect(io.err).toBe('virt-nested: check-guest --root checks the machine under DIR, so it takes no GUEST names, --all or --match\n');
});
