/**
 * planNested is pure: a HostState written out by hand (no file system, no runner) gives the exact
 * changes and commands, and the same state always gives the same plan.
 */
import type { HostFileState, HostState } from '../../src/host/host-state.js';
import { planNested } from '../../src/host/nested-plan.js';

const absent = (path: string): HostFileState => ({ path, text: undefined, target: { path, kind: undefined, linked: false }, mode: undefined });
const file = (path: string, text: string, mode = 0o644): HostFileState => ({ path, text, target: { path, kind: 'file', linked: false }, mode });

function state(overrides: Partial<HostState> = {}): HostState {
  const vendor = file('/usr/lib/modprobe.d/50-vendor.conf', 'options kvm_amd nested=1\n');
  return {
    cpu: { arch: 'x86_64', vendor: 'AuthenticAMD', flags: ['svm', 'lm'] },
    module: 'kvm_amd',
    moduleState: { loaded: true, nested: '1', nestedEnabled: true, useCount: 0 },
    devKvm: true,
    files: [{ path: vendor.path, text: vendor.text ?? '' }],
    cmdline: [],
    writable: new Map([
      ['/etc/modprobe.d/kvm.conf', absent('/etc/modprobe.d/kvm.conf')],
      [vendor.path, vendor],
      ['/etc/modprobe.d/50-vendor.conf', absent('/etc/modprobe.d/50-vendor.conf')],
    ]),
    kernel: { osrelease: '6.12.95', version: undefined, signature: undefined },
    ...overrides,
  };
}

test('off: kvm.conf gets nested=0, which comes after the package file by name, so there is no conflict; the reload unloads first', () => {
  const plan = planNested(state(), 'kvm_amd', { direction: 'off', reload: true });
  expect(plan).toEqual({
    direction: 'off',
    module: 'kvm_amd',
    kvmConfBefore: undefined,
    changes: [{ path: '/etc/modprobe.d/kvm.conf', target: '/etc/modprobe.d/kvm.conf', before: null, after: 'options kvm_amd nested=0\n', mode: 0o644 }],
    conflicts: [],
    commands: [{ file: 'modprobe', args: ['-r', 'kvm_amd'] }, { file: 'modprobe', args: ['kvm_amd'] }],
    reload: 'planned',
    persistent: expect.objectContaining({ verdict: 'off', value: '0' }) as unknown,
  });
  expect(planNested(state(), 'kvm_amd', { direction: 'off', reload: true })).toEqual(plan);
});

test('a package file named after kvm.conf overrides it: with fixConflicts an /etc copy without the line hides it', () => {
  const vendor = file('/usr/lib/modprobe.d/zz-vendor.conf', 'options kvm_amd nested=1\n');
  const plan = planNested(
    state({
      files: [{ path: vendor.path, text: vendor.text ?? '' }],
      writable: new Map([
        ['/etc/modprobe.d/kvm.conf', absent('/etc/modprobe.d/kvm.conf')],
        [vendor.path, vendor],
        ['/etc/modprobe.d/zz-vendor.conf', absent('/etc/modprobe.d/zz-vendor.conf')],
      ]),
    }),
    'kvm_amd',
    { direction: 'off', fixConflicts: true },
  );
  expect(plan.changes.map((c) => [c.path, c.before, c.after])).toEqual([
    ['/etc/modprobe.d/kvm.conf', null, 'options kvm_amd nested=0\n'],
    [
      '/etc/modprobe.d/zz-vendor.conf',
      null,
      '# virt-nested disable-host --fix-conflicts: the next line set nested for kvm_amd after /etc/modprobe.d/kvm.conf\n# options kvm_amd nested=1\n',
    ],
  ]);
  expect(plan.persistent.verdict).toBe('off');
  expect(plan.reload).toBe('not-requested');
});
