import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHost, runCommand, type HostReport } from '../../src/host/index.js';
import { VirtNestedError } from '../../src/errors.js';
import { copyFixture, fixtureRoot, recordingRunner, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

const CORPUS = new URL('../../fixtures/libvirt-9.0.0/domcaps/', import.meta.url);
const domcaps = (name: string) => readFileSync(new URL(name, CORPUS), 'utf8');
const NO_VIRSH = 'libvirt gave no answer about CPU modes for kvm guests (virsh: command not found)';
const statuses = (report: HostReport) => Object.fromEntries(report.checks.map((check) => [check.id, check.status]));

describe('every fixture host, with no libvirt to ask', () => {
  const cases: Array<[string, boolean, string[]]> = [
    // fixture, ok, statuses of: arch, cpu-flag, module-loaded, nested, modprobe-nested, kernel-advisory, dev-kvm, libvirt-cpu-modes
    ['intel-nested-on', true, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'not-applicable']],
    ['intel-nested-off', false, ['ok', 'ok', 'ok', 'problem', 'not-applicable', 'ok', 'ok', 'not-applicable']],
    ['amd-nested-1', true, ['ok', 'ok', 'ok', 'ok', 'not-applicable', 'ok', 'ok', 'not-applicable']],
    ['amd-nested-0', false, ['ok', 'ok', 'ok', 'problem', 'problem', 'ok', 'ok', 'not-applicable']],
    ['intel-module-not-loaded', false, ['ok', 'ok', 'problem', 'not-applicable', 'not-applicable', 'ok', 'problem', 'not-applicable']],
    ['no-vmx-svm', false, ['ok', 'problem', 'problem', 'not-applicable', 'not-applicable', 'not-applicable', 'ok', 'not-applicable']],
    ['aarch64', false, ['problem', 'not-applicable', 'not-applicable', 'not-applicable', 'not-applicable', 'not-applicable', 'not-applicable', 'not-applicable']],
    ['intel-nested0-override-in-later-file', false, ['ok', 'ok', 'ok', 'ok', 'problem', 'ok', 'ok', 'not-applicable']],
    ['intel-kvm-conf-with-other-options', false, ['ok', 'ok', 'ok', 'problem', 'problem', 'ok', 'ok', 'not-applicable']],
  ];
  test.each(cases)('%s', async (name, ok, expected) => {
    const report = await checkHost({ root: fixtureRoot(name), run: recordingRunner() });
    expect(report.ok).toBe(ok);
    expect(report.checks.map((check) => check.id)).toEqual(['arch', 'cpu-flag', 'module-loaded', 'nested', 'modprobe-nested', 'kernel-advisory', 'dev-kvm', 'libvirt-cpu-modes']);
    expect(report.checks.map((check) => check.status)).toEqual(expected);
  });
});

test('Intel with nested on: the whole report', async () => {
  const run = recordingRunner();
  const report = await checkHost({ root: fixtureRoot('intel-nested-on'), run });
  expect(report).toEqual({
    ok: true,
    arch: 'x86_64',
    vendor: 'GenuineIntel',
    flag: 'vmx',
    flagPresent: true,
    hypervisor: false,
    module: 'kvm_intel',
    moduleLoaded: true,
    nested: 'Y',
    nestedEnabled: true,
    persistent: {
      verdict: 'on',
      value: '1',
      source: { path: '/etc/modprobe.d/kvm.conf', line: 1, module: 'kvm_intel', name: 'nested', value: '1', text: 'options kvm_intel nested=1' },
      settings: [{ path: '/etc/modprobe.d/kvm.conf', line: 1, module: 'kvm_intel', name: 'nested', value: '1', text: 'options kvm_intel nested=1' }],
    },
    devKvm: true,
    kernel: { release: '6.1.0-57-amd64', upstream: '6.1.192', distribution: 'Debian' },
    libvirt: { uri: 'qemu:///system', hostModel: undefined, hostPassthrough: undefined, error: 'virsh: command not found' },
    checks: [
      { id: 'arch', status: 'ok', message: 'the CPU is x86_64 (GenuineIntel)' },
      { id: 'cpu-flag', status: 'ok', message: 'the CPU has the vmx flag (Intel VT-x)' },
      { id: 'module-loaded', status: 'ok', message: 'kvm_intel is loaded' },
      { id: 'nested', status: 'ok', message: "kvm_intel's nested parameter reads Y" },
      { id: 'modprobe-nested', status: 'ok', message: '/etc/modprobe.d/kvm.conf line 1 sets nested=1 for kvm_intel at the next load' },
      {
        id: 'kernel-advisory',
        status: 'ok',
        message: 'the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)',
      },
      { id: 'dev-kvm', status: 'ok', message: '/dev/kvm is present' },
      { id: 'libvirt-cpu-modes', status: 'not-applicable', message: NO_VIRSH },
    ],
  });
  expect(run.calls).toEqual([{ file: 'virsh', args: ['-c', 'qemu:///system', 'domcapabilities', '--virttype', 'kvm'] }]);
});

test('Intel with nested off: the fix is enable-host --reload', async () => {
  const report = await checkHost({ root: fixtureRoot('intel-nested-off'), run: recordingRunner() });
  expect(report.checks.slice(3, 5)).toEqual([
    { id: 'nested', status: 'problem', message: "kvm_intel's nested parameter reads N", fix: 'run: virt-nested enable-host --reload' },
    {
      id: 'modprobe-nested',
      status: 'not-applicable',
      message: "no modprobe.d file sets nested for kvm_intel, so the kernel's default applies at the next load",
      fix: 'to keep nested on across reloads and reboots, run: virt-nested enable-host',
    },
  ]);
  expect([report.nested, report.nestedEnabled, report.persistent.verdict]).toEqual(['N', false, 'unset']);
});

test('AMD with nested=0 in kvm.conf, spelled kvm-amd', async () => {
  const report = await checkHost({ root: fixtureRoot('amd-nested-0'), run: recordingRunner() });
  expect([report.vendor, report.module, report.flag, report.nested]).toEqual(['AuthenticAMD', 'kvm_amd', 'svm', '0']);
  expect(report.checks[4]).toEqual({
    id: 'modprobe-nested',
    status: 'problem',
    message: '/etc/modprobe.d/kvm.conf line 1 sets nested=0 for kvm_amd, so nested virtualization is off after the next load',
    fix: 'run: virt-nested enable-host',
  });
});

test('nested=0 in a later file defeats kvm.conf, even with nested on now', async () => {
  const report = await checkHost({ root: fixtureRoot('intel-nested0-override-in-later-file'), run: recordingRunner() });
  expect(report.nestedEnabled).toBe(true);
  expect(report.ok).toBe(false);
  expect(report.checks[4]).toEqual({
    id: 'modprobe-nested',
    status: 'problem',
    message: '/etc/modprobe.d/zz-local.conf line 2 sets nested=0 for kvm_intel, so nested virtualization is off after the next load',
    fix: 'run: virt-nested enable-host --fix-conflicts',
  });
});

test('a later nested=0 also changes the fix for a nested parameter that is off', async () => {
  const root = await copyFixture('intel-nested0-override-in-later-file');
  await writeFile(join(root, 'sys/module/kvm_intel/parameters/nested'), 'N\n');
  const report = await checkHost({ root, run: recordingRunner() });
  expect(report.checks[3]).toEqual({ id: 'nested', status: 'problem', message: "kvm_intel's nested parameter reads N", fix: 'run: virt-nested enable-host --reload --fix-conflicts' });
});

test('the kernel command line comes last, and its fix is to edit it', async () => {
  const root = await copyFixture('intel-nested-on');
  await writeFile(join(root, 'proc/cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro kvm-intel.nested=0\n');
  const report = await checkHost({ root, run: recordingRunner() });
  expect(report.ok).toBe(false);
  expect(report.checks[4]).toEqual({
    id: 'modprobe-nested',
    status: 'problem',
    message: 'the kernel command line sets nested=0 for kvm_intel, so nested virtualization is off after the next load',
    fix: 'remove kvm-intel.nested=0 from the kernel command line and reboot',
  });
});

test('a value the kernel refuses is a problem', async () => {
  const root = await copyFixture('intel-nested-on');
  await writeFile(join(root, 'etc/modprobe.d/kvm.conf'), 'options kvm_intel nested=maybe\n');
  const report = await checkHost({ root, run: recordingRunner() });
  expect(report.ok).toBe(false);
  expect(report.checks[4]).toEqual({
    id: 'modprobe-nested',
    status: 'problem',
    message: '/etc/modprobe.d/kvm.conf line 1 sets nested=maybe for kvm_intel, a value the kernel refuses, so kvm_intel would not load',
    fix: 'run: virt-nested enable-host',
  });
});

test('module not loaded: /sys/module has no kvm_intel and /proc/modules does not list it', async () => {
  const report = await checkHost({ root: fixtureRoot('intel-module-not-loaded'), run: recordingRunner() });
  expect([...report.checks.slice(2, 5), report.checks[6]]).toEqual([
    { id: 'module-loaded', status: 'problem', message: 'kvm_intel is not loaded', fix: 'run: virt-nested enable-host --reload' },
    { id: 'nested', status: 'not-applicable', message: 'kvm_intel is not loaded, so it has no nested parameter to read' },
    {
      id: 'modprobe-nested',
      status: 'not-applicable',
      message: "no modprobe.d file sets nested for kvm_intel, so the kernel's default applies at the next load",
      fix: 'to keep nested on across reloads and reboots, run: virt-nested enable-host',
    },
    { id: 'dev-kvm', status: 'problem', message: '/dev/kvm is missing, so libvirt cannot start kvm guests', fix: 'run: virt-nested enable-host --reload' },
  ]);
});

test('a module listed in /proc/modules counts as loaded', async () => {
  const root = await copyFixture('intel-module-not-loaded');
  await writeFile(join(root, 'proc/modules'), 'kvm_intel 380928 0 - Live 0x0000000000000000\nkvm 1142784 1 kvm_intel, Live 0x0000000000000000\n');
  const report = await checkHost({ root, run: recordingRunner() });
  expect(report.moduleLoaded).toBe(true);
  expect(report.checks[3]).toEqual({ id: 'nested', status: 'problem', message: 'kvm_intel has no nested parameter in /sys/module/kvm_intel/parameters', fix: 'use a kernel whose kvm_intel has the nested parameter' });
});

test('a VM without nesting, like this project\'s machines: the svm flag is named', async () => {
  const report = await checkHost({ root: fixtureRoot('no-vmx-svm'), run: recordingRunner() });
  expect(report.checks.slice(1, 5)).toEqual([
    {
      id: 'cpu-flag',
      status: 'problem',
      message: 'the CPU has no svm flag, so KVM cannot use AMD-V here',
      fix: 'this machine is itself a guest: on its host, give it a CPU with svm (virt-nested set-cpu GUEST --mode host-model) and restart it',
    },
    { id: 'module-loaded', status: 'problem', message: 'kvm_amd is not loaded', fix: 'kvm_amd can load only once the CPU has svm' },
    { id: 'nested', status: 'not-applicable', message: 'kvm_amd is not loaded, so it has no nested parameter to read' },
    { id: 'modprobe-nested', status: 'not-applicable', message: "no modprobe.d file sets nested for kvm_amd, so the kernel's default applies at the next load" },
  ]);
  expect([report.hypervisor, report.devKvm, report.moduleLoaded]).toEqual([true, true, false]);
});

test('aarch64: the seed\'s limitation, said plainly, and libvirt is not asked', async () => {
  const run = recordingRunner();
  const report = await checkHost({ root: fixtureRoot('aarch64'), run });
  expect(report.checks[0]).toEqual({ id: 'arch', status: 'problem', message: 'nested virtualization is only supported on x86, and this CPU is aarch64', fix: 'run nested guests on an x86 host' });
  expect(report.checks[1]).toEqual({ id: 'cpu-flag', status: 'not-applicable', message: 'not checked, because nested virtualization is only supported on x86' });
  expect([report.arch, report.vendor, report.module, report.libvirt]).toEqual(['aarch64', undefined, undefined, undefined]);
  expect(run.calls).toEqual([]);
});

test('an x86 CPU of a vendor KVM does not know, without vmx or svm', async () => {
  const root = await copyFixture('guest-neither');
  await writeFile(join(root, 'proc/cpuinfo'), 'processor\t: 0\nvendor_id\t: NexGenDriven\nflags\t\t: fpu lm\n');
  const report = await checkHost({ root, run: recordingRunner() });
  expect(report.ok).toBe(false);
  expect(report.checks[1]).toEqual({ id: 'cpu-flag', status: 'problem', message: 'the CPU (vendor NexGenDriven) has neither vmx nor svm', fix: 'run nested guests on an Intel or AMD host with VT-x or AMD-V enabled' });
  expect(report.checks[2]).toEqual({ id: 'module-loaded', status: 'not-applicable', message: 'no KVM module fits this CPU' });
});

test('no /proc/cpuinfo is an error, not a report', async () => {
  const root = await copyFixture('guest-neither');
  await mkdir(join(root, 'empty'));
  await expect(checkHost({ root: join(root, 'empty'), run: recordingRunner() })).rejects.toMatchObject({
    code: 'FILE_UNREADABLE',
    message: `${join(root, 'empty')}/proc/cpuinfo does not exist, so the CPU cannot be checked; mount /proc and run again`,
  });
  await expect(checkHost({ root: join(root, 'empty'), run: recordingRunner() })).rejects.toBeInstanceOf(VirtNestedError);
});

describe("libvirt's CPU modes are advice", () => {
  const answering = (xml: string) => recordingRunner(() => ({ stdout: xml, stderr: '', exitCode: 0 }));

  test('both modes offered (QEMU 7.2 on x86_64), asked at the given URI', async () => {
    const run = answering(domcaps('qemu_7.2.0.x86_64.xml'));
    const report = await checkHost({ root: fixtureRoot('intel-nested-off'), run, uri: 'qemu+ssh://hv1/system' });
    expect(report.libvirt).toEqual({ uri: 'qemu+ssh://hv1/system', hostModel: true, hostPassthrough: true, error: undefined });
    expect(report.checks[7]).toEqual({ id: 'libvirt-cpu-modes', status: 'ok', message: 'libvirt offers host-model and host-passthrough for kvm guests' });
    expect(report.ok).toBe(false);
    expect(run.calls[0]?.args).toEqual(['-c', 'qemu+ssh://hv1/system', 'domcapabilities', '--virttype', 'kvm']);
  });

  test('one mode offered', async () => {
    const report = await checkHost({ root: fixtureRoot('intel-nested-on'), run: answering(domcaps('qemu_4.2.0.aarch64.xml')) });
    expect(report.checks[7]).toEqual({ id: 'libvirt-cpu-modes', status: 'ok', message: 'libvirt offers host-passthrough (not host-model) for kvm guests' });
  });

  test('neither mode offered is a problem that leaves the verdict alone', async () => {
    const report = await checkHost({ root: fixtureRoot('intel-nested-on'), run: answering(domcaps('empty.xml')) });
    expect(report.ok).toBe(true);
    expect(report.checks[7]).toEqual({
      id: 'libvirt-cpu-modes',
      status: 'problem',
      message: 'libvirt offers neither host-model nor host-passthrough for kvm guests',
      fix: 'check what libvirt says about KVM: virsh -c qemu:///system domcapabilities --virttype kvm',
    });
  });

  test('a failing virsh, a throwing runner, or no modes are "no answer"', async () => {
    const failing = recordingRunner(() => ({ stdout: '', stderr: 'error: failed to get emulator capabilities\nerror: this function is not supported by the connection driver: virConnectGetDomainCapabilities\n', exitCode: 1 }));
    const throwing = recordingRunner(() => {
      throw new Error('spawn failed');
    });
    const garbage = answering('not xml at all <');
    const messages = [];
    for (const run of [failing, throwing, garbage]) {
      const report = await checkHost({ root: fixtureRoot('intel-nested-on'), run });
      expect(report.ok).toBe(true);
      expect(report.checks[7]?.status).toBe('not-applicable');
      messages.push(report.checks[7]?.message);
    }
    expect(messages).toEqual([
      'libvirt gave no answer about CPU modes for kvm guests (this function is not supported by the connection driver: virConnectGetDomainCapabilities)',
      'libvirt gave no answer about CPU modes for kvm guests (spawn failed)',
      'libvirt gave no answer about CPU modes for kvm guests (virsh domcapabilities listed no CPU modes)',
    ]);
  });
});

test('this machine, for real: what /proc/cpuinfo and /sys/module say, and the real virsh', async () => {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(cpuinfo)?.[1];
  const module = flags.includes('vmx') || vendor === 'GenuineIntel' ? 'kvm_intel' : 'kvm_amd';
  const flag = module === 'kvm_intel' ? 'vmx' : 'svm';
  const loaded = existsSync(`/sys/module/${module}`) || (existsSync('/proc/modules') && readFileSync('/proc/modules', 'utf8').split('\n').some((l) => l.startsWith(`${module} `)));

  const report = await checkHost({ root: '/', run: runCommand });
  expect(report.vendor).toBe(vendor);
  expect(report.module).toBe(module);
  expect(report.flagPresent).toBe(flags.includes(flag));
  expect(report.hypervisor).toBe(flags.includes('hypervisor'));
  expect(report.moduleLoaded).toBe(loaded);
  expect(report.devKvm).toBe(existsSync('/dev/kvm'));
  expect(report.libvirt?.uri).toBe('qemu:///system');
  if (!flags.includes(flag)) {
    // This project's machines: AuthenticAMD with the hypervisor flag and no svm.
    expect(report.ok).toBe(false);
    expect(statuses(report)['cpu-flag']).toBe('problem');
    expect(report.checks[1]?.message).toBe(`the CPU has no ${flag} flag, so KVM cannot use ${flag === 'svm' ? 'AMD-V' : 'Intel VT-x'} here`);
  }
});
