import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkGuest } from '../../src/host/index.js';
import { copyFixture, fixtureRoot, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

test('a guest with vmx', async () => {
  expect(await checkGuest({ root: fixtureRoot('guest-vmx') })).toEqual({
    ok: true,
    arch: 'x86_64',
    vendor: 'GenuineIntel',
    vmx: true,
    svm: false,
    hypervisor: true,
    devKvm: true,
    checks: [
      { id: 'arch', status: 'ok', message: 'the CPU is x86_64 (GenuineIntel)' },
      { id: 'cpu-flag', status: 'ok', message: 'the CPU has the vmx flag (Intel VT-x), so this machine can run KVM guests of its own' },
      { id: 'hypervisor', status: 'ok', message: 'the CPU has the hypervisor flag, so this machine is a guest' },
      { id: 'dev-kvm', status: 'ok', message: '/dev/kvm is present' },
    ],
  });
});

test('a guest with svm', async () => {
  const report = await checkGuest({ root: fixtureRoot('guest-svm') });
  expect([report.ok, report.vmx, report.svm, report.hypervisor, report.devKvm]).toEqual([true, false, true, true, true]);
  expect(report.checks[1]).toEqual({ id: 'cpu-flag', status: 'ok', message: 'the CPU has the svm flag (AMD-V), so this machine can run KVM guests of its own' });
});

test('a guest with neither', async () => {
  expect(await checkGuest({ root: fixtureRoot('guest-neither') })).toEqual({
    ok: false,
    arch: 'x86_64',
    vendor: 'GenuineIntel',
    vmx: false,
    svm: false,
    hypervisor: true,
    devKvm: false,
    checks: [
      { id: 'arch', status: 'ok', message: 'the CPU is x86_64 (GenuineIntel)' },
      {
        id: 'cpu-flag',
        status: 'problem',
        message: 'the CPU has neither vmx nor svm, so this machine cannot run KVM guests of its own',
        fix: 'on the host, give this guest a CPU with vmx or svm (virt-nested set-cpu GUEST --mode host-model) and restart it',
      },
      { id: 'hypervisor', status: 'ok', message: 'the CPU has the hypervisor flag, so this machine is a guest' },
      { id: 'dev-kvm', status: 'problem', message: '/dev/kvm is missing, so this machine cannot start KVM guests yet', fix: 'it appears once the CPU has vmx or svm and the KVM module is loaded' },
    ],
  });
});

test('bare metal without the flag: the firmware is the fix; with the flag and no /dev/kvm: load the module', async () => {
  const root = await copyFixture('guest-neither');
  await writeFile(join(root, 'proc/cpuinfo'), 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu lm\n');
  const bare = await checkGuest({ root });
  expect(bare.checks[1]?.fix).toBe('enable AMD-V in the firmware setup and reboot');
  expect(bare.checks[2]).toEqual({ id: 'hypervisor', status: 'ok', message: 'the CPU has no hypervisor flag, so this machine looks like bare metal' });
  await writeFile(join(root, 'proc/cpuinfo'), 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx hypervisor lm\n');
  const noDevice = await checkGuest({ root });
  expect(noDevice.ok).toBe(true);
  expect(noDevice.checks[3]).toEqual({ id: 'dev-kvm', status: 'problem', message: '/dev/kvm is missing, so this machine cannot start KVM guests yet', fix: 'load the KVM module: modprobe kvm_intel' });
});

test('aarch64: not x86, so no verdict of nesting', async () => {
  const report = await checkGuest({ root: fixtureRoot('aarch64') });
  expect(report.ok).toBe(false);
  expect(report.checks.map((c) => [c.id, c.status])).toEqual([['arch', 'problem'], ['cpu-flag', 'not-applicable'], ['hypervisor', 'ok'], ['dev-kvm', 'ok']]);
  expect(report.checks[0]?.message).toBe('nested virtualization is only supported on x86, and this CPU is aarch64');
});

test('this machine, for real', async () => {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
  const report = await checkGuest({ root: '/' });
  expect(report.vmx).toBe(flags.includes('vmx'));
  expect(report.svm).toBe(flags.includes('svm'));
  expect(report.hypervisor).toBe(flags.includes('hypervisor'));
  expect(report.devKvm).toBe(existsSync('/dev/kvm'));
  expect(report.ok).toBe(flags.includes('vmx') || flags.includes('svm'));
  expect(report.checks.find((c) => c.id === 'cpu-flag')?.status).toBe(report.ok ? 'ok' : 'problem');
});
