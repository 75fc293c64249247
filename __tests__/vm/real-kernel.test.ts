/**
 * Issue 13 (and issue 14's way back) on a real kernel: Debian's kernel boots under QEMU TCG `-cpu max`
 * (AMD SVM emulated), with the real kvm_amd, modprobe, /etc/modprobe.d and a libvirtd of its own that starts
 * KVM guests (L2). scenarios.sh runs every step in one boot; these tests assert on what it wrote.
 * Alone: `node --experimental-vm-modules node_modules/jest/bin/jest.js __tests__/vm` (after
 * `bash __tests__/vm/setup.sh` and `npm run build`).
 */
import { expectReloaded, runScenarios, resolvedNested, vmFile, vmKernel, vmStep, SCENARIOS_TIMEOUT_MS, type VmRun } from './boot-vm.js';

const kernel = vmKernel('main');
let run: VmRun;

beforeAll(async () => { run = await runScenarios('main'); }, SCENARIOS_TIMEOUT_MS.main);

const step = (name: string) => vmStep(run, name);
/** A domain XML without its top-level `<cpu>` element: what set-cpu must leave byte for byte. */
const outsideCpu = (xml: string) => xml.replace(/\n *<cpu\b(?:[^>]*\/>|[^>]*[^/]>[\s\S]*?<\/cpu>)\n/, '\n');
/** What QEMU answered to qom-get, as virsh printed it. */
const qom = (name: string, property: 'svm' | 'vmx') => (JSON.parse(vmFile(run, `${name}.qom-${property}`)) as { return: unknown }).return;

test('the VM ran the pinned kernel', () => {
  expect(vmFile(run, 'uname')).toBe(`${kernel.abi}\n`);
});

describe('the host procedure on a real kvm_amd', () => {
  test('module not loaded: check-host exit 1 names kvm_amd', () => {
    const s = step('01-check-host-unloaded');
    expect(s.nested).toBe('absent');
    expect(s.exit).toBe(1);
    expect(s.stdout).toContain('✓ the CPU has the svm flag (AMD-V)\n✗ kvm_amd is not loaded\n  fix: run: virt-nested enable-host --reload\n');
    expect(s.stdout).toMatch(/\nverdict: nested virtualization is off in this host\n$/);
  });

  test('loaded with nested=0: check-host exit 1 says what the kernel reads', () => {
    const s = step('02-check-host-nested0');
    expect(s.nested).toBe('0');
    expect(s.exit).toBe(1);
    expect(s.stdout).toContain("✓ kvm_amd is loaded\n✗ kvm_amd's nested parameter reads 0\n  fix: run: virt-nested enable-host --reload\n");
  });

  test('a later modprobe.d file with nested=0 is named with its file and line, and modprobe -c agrees it wins', () => {
    const s = step('03-check-host-later-file');
    expect(s.exit).toBe(1);
    expect(s.stdout).toContain('✗ /etc/modprobe.d/zz-late.conf line 2 sets nested=0 for kvm_amd, so nested virtualization is off after the next load\n  fix: run: virt-nested enable-host --fix-conflicts\n');
    expect(s.modprobeC).toBe('options kvm_amd nested=1\noptions kvm_amd nested=0\n');
    expect(resolvedNested(s.modprobeC)).toBe('0');
  });

  test('enable-host --reload --fix-conflicts: exit 0, the kernel reads nested=1 and modprobe -c resolves nested=1', () => {
    expectReloaded(step('04-enable-host'), '1');
  });

  test('check-host afterwards: exit 0', () => {
    const s = step('05-check-host');
    expect(s.stdout).toContain("✓ kvm_amd's nested parameter reads 1\n");
    expect(s.stdout).toMatch(/\nverdict: nested virtualization is on in this host\n$/);
    expect(s.exit).toBe(0);
  });

  test('a second enable-host rewrites nothing: the same files, the same inodes, the same bytes', () => {
    const before = step('05-check-host');
    const s = step('06-enable-host-again');
    expect(s.exit).toBe(0);
    expect(s.stdout).toContain('✓ /etc/modprobe.d/kvm.conf already turns nested on for kvm_amd\n');
    expect(s.modprobeD).toBe(before.modprobeD);
    expect(s.nested).toBe('1');
  });

  test('check-guest (no argument) inside the VM sees svm in /proc/cpuinfo', () => {
    const s = step('07-check-guest-self');
    expect(s.stdout).toContain('✓ the CPU has the svm flag (AMD-V), so this machine can run KVM guests of its own\n');
    expect(s.stdout).toMatch(/\nverdict: nested virtualization is available in this machine\n$/);
    expect(s.exit).toBe(0);
  });

  test(`check-host judges this kernel (upstream ${kernel.upstream}, past the fix of CVE-2026-53359 and CVE-2026-46113): kernel-advisory ok`, () => {
    const s = step('08-check-host-json');
    const report = JSON.parse(s.stdout) as { ok: boolean; checks: Array<{ id: string; status: string }> };
    expect(report.checks.find((c) => c.id === 'kernel-advisory')).toMatchObject({ status: 'ok' });
    expect(report.ok).toBe(true);
    expect(s.exit).toBe(0);
  });
});

describe('libvirtd inside, KVM guests', () => {
  test('set-cpu --mode host-passthrough on a KVM guest: everything outside <cpu> kept, the VNC password and topology too', () => {
    expect(step('10-define').exit).toBe(0);
    const defined = vmFile(run, '10-define.xml');
    expect(defined).toContain("passwd='s3cret-8'");
    expect(defined).toContain("<topology sockets='1' dies='1' cores='2' threads='1'/>");

    const passthrough = step('11-set-cpu-passthrough');
    expect(passthrough.stdout).toMatch(/^guest "vn-vm-nested": <cpu> set to mode='host-passthrough' check='partial' \(was mode='custom' check='partial'\)\n  backup of the old definition: \/tmp\/virt-nested-backups\/vn-vm-nested@local-\d{8}T\d{6}Z\.xml\n$/);
    expect(passthrough.stderr).toBe([
      'warning: host-passthrough ties guest "vn-vm-nested" to hosts with an identical CPU for migration; host-model does not',
      'warning: while the guest runs nested guests it cannot be saved or live-migrated; stop them first',
      '',
    ].join('\n'));
    expect(passthrough.exit).toBe(0);
    const afterPassthrough = vmFile(run, '11-set-cpu-passthrough.xml');
    expect(afterPassthrough).toMatch(/<cpu mode='host-passthrough' check='partial'( migratable='on')?>\n *<topology sockets='1' dies='1' cores='2' threads='1'\/>\n *<\/cpu>/);
    expect(outsideCpu(afterPassthrough)).toBe(outsideCpu(defined));
  });

  test('and back to --mode host-model --nested on: libvirt accepts it (no migratable), svm required, everything outside <cpu> kept', () => {
    const defined = vmFile(run, '10-define.xml');
    // libvirt refused migratable='on' with host-model before setCpuMode dropped it (issue 13, bug 2); this
    // host's host-model CPU disables svm, so --nested on requires it
    const hostModel = step('12-set-cpu-host-model');
    expect(hostModel.stderr).not.toContain('virt-nested:');
    expect(hostModel.stdout).toMatch(/^guest "vn-vm-nested": <cpu> set to mode='host-model' check='partial' \(was mode='host-passthrough'[^)]*\)\n/);
    expect(hostModel.exit).toBe(0);
    const afterHostModel = vmFile(run, '12-set-cpu-host-model.xml');
    expect(afterHostModel).toMatch(/<cpu mode='host-model' check='partial'>\n *<topology sockets='1' dies='1' cores='2' threads='1'\/>\n *<feature policy='require' name='svm'\/>\n *<\/cpu>/);
    expect(outsideCpu(afterHostModel)).toBe(outsideCpu(defined));
  });

  test('the KVM guests start (L2 on the real kvm_amd)', () => {
    expect(step('13-start').exit).toBe(0);
    expect(step('13-start-nosvm').exit).toBe(0);
  });

  test('check-guest GUEST answers as QEMU qom-get does: svm', () => {
    const s = step('14-check-guest');
    expect(qom('14-check-guest', 'svm')).toBe(true);
    const report = JSON.parse(s.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: true, guest: 'vn-vm-nested', svm: true, vmx: qom('14-check-guest', 'vmx'), source: 'qmp' });
    expect(report['checks']).toContainEqual({ id: 'host-nested', status: 'ok', message: "the host's kvm_amd nested parameter reads 1" });
    expect(s.exit).toBe(0);
    expect(report['schemaVersion']).toBe(1);
  });

  test("check-guest GUEST answers as QEMU qom-get does: <feature policy='disable' name='svm'/>", () => {
    const s = step('15-check-guest-nosvm');
    expect(qom('15-check-guest-nosvm', 'svm')).toBe(false);
    const report = JSON.parse(s.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: false, guest: 'vn-vm-nosvm', svm: false, source: 'qmp', definition: { mode: 'host-model', disabled: ['svm'] } });
    expect(report['checks']).toContainEqual({
      id: 'nested-feature-disabled', status: 'problem',
      message: "guest \"vn-vm-nosvm\" has <feature policy='disable' name='svm'/>, which hides it from the guest",
      fix: 'remove that <feature> (virsh edit), then restart the guest',
    });
    expect(s.exit).toBe(1);
  });
});

describe('the way back (issue 14) and reloads refused while KVM guests run', () => {
  test('disable-host --reload: exit 0, the kernel reads nested=0, and modprobe -c resolves nested=0', () => {
    expectReloaded(step('20-disable-host'), '0');
  });

  test('check-host agrees after disable-host: nested reads 0 now and at the next load', () => {
    const s = step('21-check-host-off');
    expect(s.exit).toBe(1);
    expect(s.stdout).toContain("✗ kvm_amd's nested parameter reads 0\n");
    expect(s.stdout).toMatch(/\n✗ \/etc\/modprobe\.d\/kvm\.conf line \d+ sets nested=0 for kvm_amd, so nested virtualization is off after the next load\n/);
    expect(resolvedNested(s.modprobeC)).toBe('0');
  });

  test("check-guest GUEST on a host with nested=0 names the host's nested parameter, not the guest's CPU mode", () => {
    expect(step('22-start').exit).toBe(0);
    expect(qom('23-check-guest-host-off', 'svm')).toBe(false);
    const s = step('23-check-guest-host-off');
    expect(s.stdout).toContain([
      "✗ the host's kvm_amd nested parameter reads 0, so KVM gives no guest svm",
      '  fix: on the host, run virt-nested enable-host --reload (it needs the host\'s KVM guests shut down), then start guest "vn-vm-nested" again',
      '✗ QEMU reports neither vmx nor svm on the vCPU of guest "vn-vm-nested", because the host\'s kvm_amd nested parameter reads 0, so KVM gives no guest svm',
    ].join('\n'));
    expect(s.stdout).toMatch(/\n✓ the definition has cpu mode='host-(model|passthrough)'\n/);
    // the live CPU lacks svm because QEMU filtered it out, not because of a <feature> anyone wrote
    expect(s.stdout).toContain('✓ no <feature> disables vmx or svm\n');
    expect(s.stdout).toContain('✓ what runs matches the definition\n');
    expect(s.stdout).not.toContain('set-cpu');
    expect(s.exit).toBe(1);
  });

  test('enable-host --reload while a KVM guest runs: exit 1 naming the guest, the module untouched', () => {
    const before = step('23-check-guest-host-off');
    const s = step('24-enable-host-guest-running');
    expect(s.exit).toBe(1);
    expect(s.stdout + s.stderr).toContain('vn-vm-nested');
    expect(s.modprobeD).toBe(before.modprobeD);
    expect(s.nested).toBe('0');
    expect(Number(s.refcnt)).toBeGreaterThan(0);
  });

  test("the same with libvirtd stopped and its QEMU still running: still refused, by the kernel's count", () => {
    expect(vmFile(run, '25-libvirtd-pids')).toBe('');
    expect(vmFile(run, '25-qemu-pids')).toMatch(/^\d+\n$/);
    const s = step('25-enable-host-libvirtd-stopped');
    expect(vmFile(run, '25-qemu-pids-after')).toBe(vmFile(run, '25-qemu-pids'));
    expect(s.exit).toBe(1);
    expect(s.nested).toBe('0');
    expect(Number(s.refcnt)).toBeGreaterThan(0);
    expect(s.modprobeD).toBe(step('24-enable-host-guest-running').modprobeD);
  });
});
