/**
 * Issue 13, bug 3: a running kvm guest whose vCPU lacks svm/vmx on a host with nested=0. The first broken
 * link is the host's nested parameter, not the guest's CPU mode. A KVM guest never runs on this machine,
 * so the virsh session is injected (the real one is exercised in __tests__/vm/ on a real kernel, and on
 * TCG guests in __tests__/e2e/check-guest-running.test.ts); the host is a fixture root.
 */
import { fileURLToPath } from 'node:url';
import { checkRunningGuest, type CheckRunningGuestOptions } from '../../src/guest/check-running-guest.js';

const HOSTS = fileURLToPath(new URL('../../fixtures/hosts/', import.meta.url));

const kvmGuest = (type = 'kvm') => `<domain type='${type}'>
  <name>web-1</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <cpu mode='host-model' check='partial'/>
</domain>
`;

/** A running guest whose QEMU reports `svm` as given, and what it was asked. */
function session(uri: string, options: { svm?: boolean; type?: string; live?: string } = {}) {
  const asked: string[] = [];
  const s: CheckRunningGuestOptions['session'] = {
    uri,
    domstate: async () => 'running',
    dumpxml: async (_guest, dumpOptions) => (dumpOptions?.inactive || options.live === undefined ? kvmGuest(options.type) : options.live),
    qemuMonitorCommand: async (_guest, command) => {
      const c = command as { execute: string; arguments?: { property: string } };
      asked.push(c.arguments ? `${c.execute} ${c.arguments.property}` : c.execute);
      if (c.execute === 'query-cpus-fast') return JSON.stringify({ return: [{ 'qom-path': '/machine/unattached/device[0]' }] });
      return JSON.stringify({ return: c.arguments?.property === 'svm' ? Boolean(options.svm) : false });
    },
  };
  return { session: s, asked };
}

const HOST_FIX = 'on the host, run virt-nested enable-host --reload (it needs the host\'s KVM guests shut down), then start guest "web-1" again';

test('host-model kvm guest without svm on a host whose kvm_amd reads nested=0: the host is named, not set-cpu', async () => {
  const { session: s } = session('qemu:///system');
  const report = await checkRunningGuest('web-1', { session: s, hostRoot: `${HOSTS}amd-nested-0` });
  expect(report.ok).toBe(false);
  expect(report.checks.map((c) => [c.id, c.status])).toEqual([
    ['running', 'ok'], ['host-nested', 'problem'], ['vcpu-flag', 'problem'], ['nested-feature-disabled', 'ok'],
    ['cpu-mode', 'ok'], ['accelerator', 'ok'], ['pending-restart', 'ok'],
  ]);
  expect(report.checks[1]).toEqual({ id: 'host-nested', status: 'problem', message: "the host's kvm_amd nested parameter reads 0, so KVM gives no guest svm", fix: HOST_FIX });
  expect(report.checks[2]).toEqual({
    id: 'vcpu-flag', status: 'problem',
    message: 'QEMU reports neither vmx nor svm on the vCPU of guest "web-1", because the host\'s kvm_amd nested parameter reads 0, so KVM gives no guest svm',
    fix: HOST_FIX,
  });
});

test('the same guest on a host with nested=1: the host link is fine, and the advice stays with the guest', async () => {
  const { session: s } = session('qemu+unix:///system?socket=/run/libvirt/libvirt-sock');
  const report = await checkRunningGuest('web-1', { session: s, hostRoot: `${HOSTS}amd-nested-1` });
  expect(report.checks[1]).toEqual({ id: 'host-nested', status: 'ok', message: "the host's kvm_amd nested parameter reads 1" });
  expect(report.checks[2]?.fix).toBe('virt-nested set-cpu --mode host-model -c \'qemu+unix:///system?socket=/run/libvirt/libvirt-sock\' -- web-1, then restart the guest');
});

test('a host where no KVM module is loaded is the first broken link', async () => {
  const { session: s } = session('qemu:///system');
  const report = await checkRunningGuest('web-1', { session: s, hostRoot: `${HOSTS}intel-module-not-loaded` });
  expect(report.checks[1]).toEqual({ id: 'host-nested', status: 'problem', message: 'neither kvm_amd nor kvm_intel is loaded on the host', fix: HOST_FIX });
});

test('svm present: ok, and the host check says so', async () => {
  const { session: s, asked } = session('qemu:///system', { svm: true });
  const report = await checkRunningGuest('web-1', { session: s, hostRoot: `${HOSTS}amd-nested-1` });
  expect(report.ok).toBe(true);
  expect(report.svm).toBe(true);
  expect(asked).toEqual(['query-cpus-fast', 'qom-get vmx', 'qom-get svm']);
});

test('a remote URI, a TCG guest, or hostRoot null: this machine is not the host, so it is not read', async () => {
  for (const [uri, type, hostRoot] of [
    ['qemu+ssh://root@hv1/system', 'kvm', `${HOSTS}amd-nested-0`],
    ['qemu:///system', 'qemu', `${HOSTS}amd-nested-0`],
    ['qemu:///system', 'kvm', null],
  ] as const) {
    const { session: s } = session(uri, { type });
    const report = await checkRunningGuest('web-1', { session: s, hostRoot });
    expect(report.checks.map((c) => c.id)).not.toContain('host-nested');
    expect(report.checks[1]?.message).toBe('QEMU reports neither vmx nor svm on the vCPU of guest "web-1", so it cannot run nested guests');
  }
});

test("with the host's nested off, the svm that libvirt marks disabled in the live CPU is the host's doing: no feature to remove, no pending restart", async () => {
  // what libvirt 9.0 writes into the live definition after QEMU filtered svm out (host-model expanded)
  const live = kvmGuest().replace("<cpu mode='host-model' check='partial'/>", "<cpu mode='custom' match='exact' check='full'>\n    <model fallback='forbid'>EPYC</model>\n    <feature policy='disable' name='svm'/>\n  </cpu>");
  const { session: s } = session('qemu:///system', { live });
  const report = await checkRunningGuest('web-1', { session: s, hostRoot: `${HOSTS}amd-nested-0` });
  expect(report.checks.find((c) => c.id === 'nested-feature-disabled')).toEqual({ id: 'nested-feature-disabled', status: 'ok', message: 'no <feature> disables vmx or svm' });
  expect(report.checks.find((c) => c.id === 'pending-restart')).toEqual({ id: 'pending-restart', status: 'ok', message: 'what runs matches the definition' });
  expect(report.pendingRestart).toBe(false);
  // on a host with nested on, the same live CPU does point at the guest
  const { session: s1 } = session('qemu:///system', { live });
  const other = await checkRunningGuest('web-1', { session: s1, hostRoot: `${HOSTS}amd-nested-1` });
  expect(other.checks.find((c) => c.id === 'nested-feature-disabled')?.status).toBe('problem');
});
