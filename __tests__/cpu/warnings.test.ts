import { parseDomain } from '../../src/domain/parse-domain.js';
import { VIRTUALIZATION_FEATURES, warningsFor } from '../../src/cpu/warnings.js';

const domain = (type: string, arch: string, features = '') =>
  parseDomain(`<domain type='${type}'><name>g</name><os><type arch='${arch}'>hvm</type></os><cpu mode='host-model'>${features}</cpu></domain>`);

test('the virtualization features are vmx and svm', () => {
  expect(VIRTUALIZATION_FEATURES).toEqual(['vmx', 'svm']);
});

test.each(['x86_64', 'i686'])('kvm on %s with host-model: no warning', (arch) => {
  expect(warningsFor(domain('kvm', arch), 'host-model')).toEqual([]);
});

test.each([
  ["<feature policy='disable' name='vmx'/>", ['nested-feature-disabled']],
  ["<feature policy='forbid' name='vmx'/>", ['nested-feature-disabled']],
  ["<feature policy='disable' name='svm'/>", ['nested-feature-disabled']],
  ["<feature policy='forbid' name='svm'/><feature policy='disable' name='vmx'/>", ['nested-feature-disabled', 'nested-feature-disabled']],
  ["<feature policy='require' name='vmx'/>", []],
  ["<feature policy='optional' name='svm'/>", []],
  ["<feature name='vmx'/>", []],
  ["<feature policy='disable' name='x2apic'/>", []],
])('%s gives %j', (features, codes) => {
  expect(warningsFor(domain('kvm', 'x86_64', features), 'host-model').map((w) => w.code)).toEqual(codes);
});

test('all warnings at once, in a stable order', () => {
  const warnings = warningsFor(domain('qemu', 'aarch64', "<feature policy='disable' name='svm'/>"), 'host-passthrough');
  expect(warnings).toEqual([
    { code: 'nested-feature-disabled', message: `guest "g" has <feature policy='disable' name='svm'/>, which hides svm from the guest and defeats nesting; remove it` },
    { code: 'arch-not-x86', message: 'guest "g" is aarch64: nested virtualization with vmx/svm is supported only on x86' },
    { code: 'driver-not-kvm', message: `guest "g" has domain type 'qemu', not 'kvm': the guest's hypervisors will run without hardware acceleration` },
    { code: 'host-passthrough-migration', message: 'host-passthrough ties guest "g" to hosts with an identical CPU for migration; host-model does not' },
  ]);
});

test('no arch and no type: nothing to warn about', () => {
  expect(warningsFor(parseDomain('<domain/>'), 'host-model')).toEqual([]);
});
