/**
 * setCpuMode's `nested` option: 'off' disables vmx and svm inside <cpu>, 'on' removes what disables
 * them and, given domcapabilities' host-model CPU, requires the host's flag where that CPU disables it.
 */
import { VirtNestedError } from '../../src/errors.js';
import { parseDomain } from '../../src/domain/parse-domain.js';
import { serializeDomain } from '../../src/domain/serialize-domain.js';
import type { CpuMode } from '../../src/domain/types.js';
import { setCpuMode, type SetCpuModeOptions } from '../../src/cpu/set-cpu-mode.js';
import type { HostModelCpu } from '../../src/cpu/nested.js';

const doc = (cpu: string) => `<domain type='kvm'>\n  <name>g</name>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n${cpu}  <devices/>\n</domain>\n`;
function edit(input: string, options: SetCpuModeOptions, mode: CpuMode = 'host-model') {
  const domain = setCpuMode(parseDomain(input), options.nested === undefined ? 'host-model' : mode, options);
  return { output: serializeDomain(domain), domain };
}

const AMD_DISABLES_SVM: HostModelCpu = { model: 'EPYC-Milan', vendor: 'AMD', features: [{ name: 'x2apic', policy: 'require' }, { name: 'svm', policy: 'disable' }] };
const AMD_HAS_SVM: HostModelCpu = { model: 'EPYC', vendor: 'AMD', features: [{ name: 'npt', policy: 'require' }, { name: 'svm', policy: 'require' }] };
const AMD_LEAVES_SVM_OUT: HostModelCpu = { model: 'EPYC', vendor: 'AMD', features: [{ name: 'npt', policy: 'require' }] };
const INTEL_FORBIDS_VMX: HostModelCpu = { model: 'Skylake-Server', vendor: 'Intel', features: [{ name: 'vmx', policy: 'forbid' }] };

describe("nested: 'off'", () => {
  test('no <cpu>: one is inserted with both flags disabled, in the document\'s indentation', () => {
    const { output, domain } = edit(doc(''), { nested: 'off' });
    expect(output).toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='vmx'/>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n"));
    expect(domain.cpu?.features).toEqual([{ name: 'vmx', policy: 'disable' }, { name: 'svm', policy: 'disable' }]);
    // what was asked is not a warning
    expect(domain.warnings).toEqual([]);
  });

  test('a self-closing <cpu/> opens up', () => {
    expect(edit(doc("  <cpu mode='host-model' check='partial'/>\n"), { nested: 'off' }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='vmx'/>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n"));
  });

  test('existing features: vmx require becomes disable, svm forbid stays, the rest is kept', () => {
    const input = doc("  <cpu mode='custom' match='exact'>\n    <model>qemu64</model>\n    <topology sockets='1' cores='2' threads='1'/>\n    <feature name='vmx'/>\n    <feature policy=\"forbid\" name='svm'/>\n  </cpu>\n");
    expect(edit(input, { nested: 'off' }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <topology sockets='1' cores='2' threads='1'/>\n    <feature policy='disable' name='vmx'/>\n    <feature policy=\"forbid\" name='svm'/>\n  </cpu>\n"));
  });

  test('only svm missing: it is added after the last child', () => {
    const input = doc("  <cpu mode='host-passthrough' check='partial' migratable='on'>\n    <feature policy='optional' name='vmx'/>\n  </cpu>\n");
    expect(edit(input, { nested: 'off' }, 'host-passthrough').output)
      .toBe(doc("  <cpu mode='host-passthrough' check='partial' migratable='on'>\n    <feature policy='disable' name='vmx'/>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n"));
  });

  test('idempotent, and the argument is not changed', () => {
    const input = doc("  <cpu mode='host-model' check='partial'/>\n");
    const original = parseDomain(input);
    const once = setCpuMode(original, 'host-model', { nested: 'off' });
    expect(serializeDomain(setCpuMode(once, 'host-model', { nested: 'off' }))).toBe(serializeDomain(once));
    expect(serializeDomain(original)).toBe(input);
  });

  test('a document on one line stays on one line, in its own quote', () => {
    expect(edit('<domain type="kvm"><name>g</name><cpu/></domain>', { nested: 'off' }).output)
      .toBe('<domain type="kvm"><name>g</name><cpu mode="host-model" check="partial"><feature policy="disable" name="vmx"/><feature policy="disable" name="svm"/></cpu></domain>');
  });
});

describe("nested: 'on'", () => {
  test('disable and forbid policies on vmx/svm go; the cpu collapses to <cpu/> as libvirt writes it', () => {
    const input = doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='vmx'/>\n    <feature policy='forbid' name='svm'/>\n  </cpu>\n");
    const { output, domain } = edit(input, { nested: 'on' });
    expect(output).toBe(doc("  <cpu mode='host-model' check='partial'/>\n"));
    expect(domain.warnings).toEqual([]);
  });

  test('other features stay; without a host-model CPU nothing is required', () => {
    const input = doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='x2apic'/>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n");
    expect(edit(input, { nested: 'on' }).output).toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='x2apic'/>\n  </cpu>\n"));
  });

  test('a host-model CPU that disables the host\'s svm: svm is required', () => {
    const input = doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n");
    expect(edit(input, { nested: 'on', hostModel: AMD_DISABLES_SVM }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='svm'/>\n  </cpu>\n"));
    expect(edit(doc(''), { nested: 'on', hostModel: AMD_DISABLES_SVM }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='svm'/>\n  </cpu>\n"));
  });

  test("an Intel host-model CPU that forbids vmx: vmx is required; an optional vmx becomes required", () => {
    expect(edit(doc("  <cpu mode='host-model'/>\n"), { nested: 'on', hostModel: INTEL_FORBIDS_VMX }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='vmx'/>\n  </cpu>\n"));
    expect(edit(doc("  <cpu mode='host-model'>\n    <feature policy='optional' name='vmx'/>\n  </cpu>\n"), { nested: 'on', hostModel: INTEL_FORBIDS_VMX }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='vmx'/>\n  </cpu>\n"));
  });

  test('a host-model CPU that requires svm: nothing is added', () => {
    expect(edit(doc("  <cpu mode='host-model' check='partial'/>\n"), { nested: 'on', hostModel: AMD_HAS_SVM }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'/>\n"));
  });

  test('a host-model CPU that leaves svm out (QEMU\'s EPYC under KVM has none): svm is required', () => {
    expect(edit(doc("  <cpu mode='host-model' check='partial'/>\n"), { nested: 'on', hostModel: AMD_LEAVES_SVM_OUT }).output)
      .toBe(doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='svm'/>\n  </cpu>\n"));
  });

  test('idempotent', () => {
    const once = setCpuMode(parseDomain(doc("  <cpu mode='custom'>\n    <model>EPYC</model>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n")), 'host-model', { nested: 'on', hostModel: AMD_DISABLES_SVM });
    expect(serializeDomain(setCpuMode(once, 'host-model', { nested: 'on', hostModel: AMD_DISABLES_SVM }))).toBe(serializeDomain(once));
  });
});

describe("nested: 'keep' (the default)", () => {
  test('a disabled flag stays, with the warning', () => {
    const input = doc("  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n");
    const { output, domain } = edit(input, { nested: 'keep' });
    expect(output).toBe(input);
    expect(domain.warnings.map((w) => w.code)).toEqual(['nested-feature-disabled']);
  });
});

test('migratable goes when the new mode does not allow it (libvirt: "only allowed for host-passthrough / maximum")', () => {
  const input = doc("  <cpu mode='host-passthrough' check='none' migratable='on'>\n    <topology sockets='1' cores='1' threads='1'/>\n  </cpu>\n");
  expect(edit(input, {}).output).toBe(doc("  <cpu mode='host-model' check='partial'>\n    <topology sockets='1' cores='1' threads='1'/>\n  </cpu>\n"));
  expect(edit(input, { nested: 'keep' }, 'host-passthrough').output).toBe(doc("  <cpu mode='host-passthrough' check='partial' migratable='on'>\n    <topology sockets='1' cores='1' threads='1'/>\n  </cpu>\n"));
});

test('an unknown nested value is a usage error', () => {
  expect(() => setCpuMode(parseDomain(doc('')), 'host-model', { nested: 'yes' as 'on' })).toThrow(new VirtNestedError('USAGE', 'nested must be keep, on or off, not "yes"'));
});
