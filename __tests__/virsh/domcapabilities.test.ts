import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirshError, VirtNestedError } from '../../src/errors.js';
import { listedCpuModes, withVirsh } from '../../src/virsh/index.js';
import { hostModelCpu } from '../../src/virsh/domcapabilities-xml.js';

/** The four modes libvirt knows, each with whether the document says it is supported. */
const cpuModesSupported = (xml: string) => {
  const listed = listedCpuModes(xml);
  return Object.fromEntries(['host-model', 'host-passthrough', 'maximum', 'custom'].map((mode) => [mode, listed.get(mode) === true]));
};

const DOMCAPS = join(process.cwd(), 'fixtures', 'libvirt-9.0.0', 'domcaps');
const read = (file: string): string => readFileSync(join(DOMCAPS, file), 'utf8');

describe('listedCpuModes over the corpus', () => {
  const files = readdirSync(DOMCAPS).filter((file) => file.endsWith('.xml'));

  test('the corpus is there', () => {
    expect(files.length).toBe(61);
  });

  test.each(files)('%s agrees with its <mode supported=…> attributes', (file) => {
    const xml = read(file);
    const oracle = (name: string): boolean => new RegExp(`<mode name='${name}' supported='yes'`).test(xml);
    expect(cpuModesSupported(xml)).toEqual({
      'host-model': oracle('host-model'),
      'host-passthrough': oracle('host-passthrough'),
      maximum: oracle('maximum'),
      custom: oracle('custom'),
    });
  });

  test('TCG supports host-model but not host-passthrough; KVM both; empty none', () => {
    expect(cpuModesSupported(read('qemu_7.2.0-tcg.x86_64.xml'))).toMatchObject({ 'host-model': true, 'host-passthrough': false });
    expect(cpuModesSupported(read('qemu_7.2.0.x86_64.xml'))).toMatchObject({ 'host-model': true, 'host-passthrough': true });
    expect(cpuModesSupported(read('empty.xml'))).toEqual({ 'host-model': false, 'host-passthrough': false, maximum: false, custom: false });
  });
});

describe('listedCpuModes on other input', () => {
  test('a listed but unsupported mode is false, an unlisted one absent, in document order', () => {
    expect([...listedCpuModes(read('qemu_7.2.0-tcg.x86_64.xml'))]).toEqual([
      ['host-passthrough', false], ['maximum', true], ['host-model', true], ['custom', true],
    ]);
    expect([...listedCpuModes("<domainCapabilities><cpu><mode name='custom' supported='no'/></cpu></domainCapabilities>")]).toEqual([['custom', false]]);
  });

  test('a document without <cpu> supports no mode', () => {
    expect(cpuModesSupported('<domainCapabilities/>')).toEqual({ 'host-model': false, 'host-passthrough': false, maximum: false, custom: false });
  });

  test.each([
    ['a domain', "<domain type='kvm'><name>x</name></domain>"],
    ['plain text', 'error: not xml'],
    ['nothing', ''],
  ])('%s is XML_MALFORMED', (_what, text) => {
    let caught: unknown;
    try {
      cpuModesSupported(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VirtNestedError);
    expect((caught as VirtNestedError).code).toBe('XML_MALFORMED');
  });
});

describe('domcapabilities on the real libvirt', () => {
  test('qemu:///system --virttype qemu: host-model yes, host-passthrough no', async () => {
    const xml = await withVirsh({ uri: 'qemu:///system' }, (virsh) => virsh.domcapabilities({ virttype: 'qemu', arch: 'x86_64' }));
    expect(xml).toMatch(/^<domainCapabilities>\n/);
    expect(cpuModesSupported(xml ?? '')).toMatchObject({ 'host-model': true, 'host-passthrough': false });
  });

  test('test:///default has no domcapabilities: undefined, and the session goes on', async () => {
    await withVirsh({ uri: 'test:///default' }, async (virsh) => {
      expect(await virsh.domcapabilities()).toBeUndefined();
      expect(await virsh.domstate('test')).toBe('running');
    });
  });

  test('an unknown virttype is VIRSH_FAILED with libvirt\'s message', async () => {
    await withVirsh({ uri: 'qemu:///system' }, async (virsh) => {
      const error = await virsh.domcapabilities({ virttype: 'bogus' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VirshError);
      expect((error as VirshError).code).toBe('VIRSH_FAILED');
      expect((error as VirshError).message).toBe(
        'virsh domcapabilities failed at qemu:///system: failed to get emulator capabilities: invalid argument: unknown virttype: bogus',
      );
    });
  });
});

describe('hostModelCpu', () => {
  test('KVM on an Intel host: model, vendor and features (vmx required)', () => {
    const cpu = hostModelCpu(read('qemu_4.2.0.x86_64.xml'));
    expect(cpu?.model).toBe('Skylake-Client-IBRS');
    expect(cpu?.vendor).toBe('Intel');
    expect(cpu?.features).toContainEqual({ name: 'vmx', policy: 'require' });
  });

  test('KVM on an AMD host: EPYC-Rome', () => {
    const cpu = hostModelCpu(read('qemu_7.2.0.x86_64.xml'));
    expect([cpu?.model, cpu?.vendor, cpu?.features[0]]).toEqual(['EPYC-Rome', 'AMD', { name: 'x2apic', policy: 'require' }]);
  });

  test('a host-model CPU that disables svm (as this project\'s own machines answer for KVM)', () => {
    const xml = "<domainCapabilities><cpu><mode name='host-model' supported='yes'><model fallback='forbid'>EPYC-Milan</model><vendor>AMD</vendor><feature policy='require' name='x2apic'/><feature policy='disable' name='svm'/></mode></cpu></domainCapabilities>";
    expect(hostModelCpu(xml)).toEqual({ model: 'EPYC-Milan', vendor: 'AMD', features: [{ name: 'x2apic', policy: 'require' }, { name: 'svm', policy: 'disable' }] });
  });

  test('host-model unsupported or not listed: undefined', () => {
    expect(hostModelCpu(read('empty.xml'))).toBeUndefined();
    expect(hostModelCpu("<domainCapabilities><cpu><mode name='host-model' supported='no'/></cpu></domainCapabilities>")).toBeUndefined();
  });
});
