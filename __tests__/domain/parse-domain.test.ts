import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DomainXmlError, VirtNestedError } from '../../src/errors.js';
import { documentOf } from '../../src/domain/document-of.js';
import { parseDomain, type ParseDomainOptions } from '../../src/domain/parse-domain.js';
import type { Disk, Domain } from '../../src/domain/types.js';

/** Every field of the model, read through its getters (a Domain need not keep them as own properties). */
const FIELDS = ['type', 'name', 'uuid', 'title', 'description', 'memory', 'currentMemory', 'vcpu', 'os', 'features', 'cpu', 'devices', 'warnings'] as const;
const modelOf = (domain: Domain): Record<string, unknown> => Object.fromEntries(FIELDS.map((f) => [f, domain[f]]));

const CORPUS = fileURLToPath(new URL('../../fixtures/libvirt-9.0.0/domains/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/domains/', import.meta.url));

const corpus = (name: string) => parseDomain(readFileSync(CORPUS + name, 'utf8'));
const fixture = (name: string) => parseDomain(readFileSync(FIXTURES + name, 'utf8'));

/** The DomainXmlError parseDomain throws for `text`, as plain data. */
function parseError(text: string, options: ParseDomainOptions = {}) {
  try {
    parseDomain(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainXmlError);
    expect(error).toBeInstanceOf(VirtNestedError);
    const e = error as DomainXmlError;
    expect(e.name).toBe('DomainXmlError');
    // one sentence: no line break, no full stop inside
    expect(e.message).not.toMatch(/\n|\.\s/);
    return { code: e.code, line: e.line, column: e.column, message: e.message };
  }
  throw new Error('parseDomain accepted the input');
}

describe('refused input', () => {
  const DOCTYPE = 'a DOCTYPE is not allowed in domain XML (libvirt never writes one, and entities are refused)';
  test.each([
    ['doctype-entity.xml', 'XML_DOCTYPE', 2, 1, DOCTYPE],
    ['billion-laughs.xml', 'XML_DOCTYPE', 2, 1, DOCTYPE],
    ['undefined-entity.xml', 'XML_MALFORMED', 2, 9, 'the entity &guest; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)'],
    ['unclosed.xml', 'XML_MALFORMED', 1, 1, 'the element <domain> is not closed'],
    ['mismatched.xml', 'XML_MALFORMED', 4, 28, 'the end tag </os> does not match <type>'],
    ['not-a-domain.xml', 'XML_NOT_DOMAIN', 2, 1, 'the root element is <network>, not <domain>; this is not libvirt domain XML'],
    ['text-after-root.xml', 'XML_MALFORMED', 4, 1, 'text after the end of the root element'],
    ['duplicate-attribute.xml', 'XML_MALFORMED', 3, 26, 'the attribute mode appears twice in <cpu>'],
  ])('bad/%s: %s at %d:%d', (name, code, line, column, message) => {
    const text = readFileSync(`${FIXTURES}bad/${name}`, 'utf8');
    expect(parseError(text)).toEqual({ code, line, column, message });
    expect(parseError(text, { file: `bad/${name}` })).toEqual({ code, line, column, message: `bad/${name}:${line}:${column}: ${message}` });
  });

  test('the file name is kept on the error', () => {
    try {
      parseDomain('<network/>', { file: 'n.xml' });
      throw new Error('accepted');
    } catch (error) {
      expect((error as DomainXmlError).file).toBe('n.xml');
    }
  });

  test('billion laughs is refused at its DOCTYPE, before any entity could be expanded', () => {
    const text = readFileSync(`${FIXTURES}bad/billion-laughs.xml`, 'utf8');
    const started = performance.now();
    expect(() => parseDomain(text)).toThrow(DomainXmlError);
    // expanding lol9 would be 3 GB; refusing takes well under a millisecond
    expect(performance.now() - started).toBeLessThan(500);
  });

  test('an entity reference is never expanded, in text or in an attribute', () => {
    expect(parseError("<domain><name>&lol;</name></domain>").code).toBe('XML_MALFORMED');
    expect(parseError("<domain type='&kvm;'/>")).toEqual({
      code: 'XML_MALFORMED', line: 1, column: 15, message: 'the entity &kvm; is not defined (only &lt; &gt; &amp; &quot; &apos; exist without a DOCTYPE)',
    });
  });

  test('a second root element is refused', () => {
    expect(parseError('<domain/>\n<domain/>\n')).toEqual({
      code: 'XML_MALFORMED', line: 2, column: 1, message: 'markup after the end of the root element (a document has one root)',
    });
  });

  test('input over maxBytes is refused', () => {
    const text = "<domain type='kvm'><name>big</name></domain>";
    expect(parseDomain(text, { maxBytes: text.length }).name).toBe('big');
    expect(parseError(text, { maxBytes: text.length - 1 })).toEqual({
      code: 'XML_TOO_LARGE', line: 1, column: 1,
      message: `the XML is larger than the limit of ${text.length - 1} bytes; domain XML is normally a few KiB`,
    });
    expect(parseError(text, { maxBytes: 10, file: 'big.xml' }).message)
      .toBe('big.xml is larger than the limit of 10 bytes; domain XML is normally a few KiB');
  });

  test('the default limit is 10 MiB: exactly 10 MiB parses, 11 MiB is refused', () => {
    const head = '<domain><name>padded</name><!--';
    const tail = '--></domain>';
    const exact = head + 'x'.repeat(10 * 1024 * 1024 - head.length - tail.length) + tail;
    expect(Buffer.byteLength(exact)).toBe(10485760);
    expect(parseDomain(exact).name).toBe('padded');
    const over = head + 'x'.repeat(11 * 1024 * 1024) + tail;
    expect(parseError(over)).toEqual({
      code: 'XML_TOO_LARGE', line: 1, column: 1,
      message: 'the XML is larger than the limit of 10485760 bytes; domain XML is normally a few KiB',
    });
  });

  test('a non-string is a TypeError', () => {
    expect(() => parseDomain(Buffer.from('<domain/>') as unknown as string)).toThrow(new TypeError('parseDomain expects the XML as a string'));
  });
});

describe('the model', () => {
  test('graphics-spice-timeout (corpus): names, memory, vcpu, os, features, cpu, devices', () => {
    const domain = corpus('graphics-spice-timeout.x86_64-latest.xml');
    expect(domain.type).toBe('kvm');
    expect(domain.name).toBe('f14');
    expect(domain.uuid).toBe('553effab-b5e1-2d80-dfe3-da4344826c43');
    expect(domain.title).toBeUndefined();
    expect(domain.description).toBeUndefined();
    expect(domain.memory).toEqual({ kib: 1048576, value: 1048576, unit: 'KiB' });
    expect(domain.currentMemory).toEqual({ kib: 1048576, value: 1048576, unit: 'KiB' });
    expect(domain.vcpu).toEqual({ count: 2, placement: 'static', current: undefined, cpuset: undefined });
    expect(domain.os).toEqual({ type: 'hvm', arch: 'x86_64', machine: 'pc', firmware: undefined, loader: undefined, boot: ['cdrom', 'hd'] });
    expect(domain.features).toEqual(['acpi', 'apic', 'pae']);
    expect(domain.cpu).toEqual({
      mode: 'custom', check: 'none', match: 'exact', migratable: undefined,
      model: { name: 'qemu64', fallback: 'forbid' }, vendor: undefined, topology: undefined, features: [],
    });
    expect(domain.devices.emulator).toBe('/usr/bin/qemu-system-x86_64');
    expect(domain.devices.graphics).toEqual([{
      kind: 'graphics', type: 'spice', port: '5900', listen: undefined, passwd: 'sercet',
      attributes: { type: 'spice', port: '5900', autoport: 'no', passwd: 'sercet', passwdValidTo: '2011-05-31T16:11:22', connected: 'disconnect' },
    }]);
    expect(domain.devices.interfaces).toEqual([{
      kind: 'interface', type: 'ethernet', mac: '52:54:00:71:70:89', source: undefined, model: 'rtl8139', attributes: { type: 'ethernet' },
    }]);
    expect(domain.devices.controllers.map((c) => c.type)).toEqual(['ide', 'virtio-serial', 'usb', 'pci']);
    expect(domain.devices.inputs.map((i) => i.attributes.type)).toEqual(['tablet', 'mouse', 'keyboard']);
    expect(domain.devices.sounds).toHaveLength(1);
    expect(domain.devices.videos).toHaveLength(1);
    expect(domain.devices.memballoons).toHaveLength(1);
    expect(domain.devices.disks).toEqual([]);
    expect(domain.devices.all.map((d) => d.kind)).toEqual([
      'controller', 'controller', 'controller', 'controller', 'interface', 'input', 'input', 'input', 'graphics', 'sound', 'audio', 'video', 'memballoon',
    ]);
    expect(domain.warnings).toEqual([]);
  });

  test('minimal (corpus): title, multi-line description with a reference, cpuset, disks', () => {
    const domain = corpus('minimal.xml');
    expect(domain.type).toBe('qemu');
    expect(domain.title).toBe('A description of the test machine.');
    expect(domain.description).toBe("\n      A test of qemu's minimal configuration.\n      This test also tests the description and title elements.\n  ");
    expect(domain.memory).toEqual({ kib: 219100, value: 219100, unit: 'KiB' });
    expect(domain.vcpu).toEqual({ count: 1, placement: 'static', current: undefined, cpuset: '1-4,8-20,525' });
    expect(domain.os.arch).toBe('i686');
    expect(domain.cpu).toBeUndefined();
    expect(domain.features).toEqual([]);
    expect(domain.devices.disks).toEqual([{
      kind: 'disk', type: 'block', device: 'disk', target: { dev: 'hda', bus: 'ide' }, source: '/dev/HostVG/QEMUGuest1',
      driver: { name: 'qemu', type: 'raw' }, attributes: { type: 'block', device: 'disk' },
    }]);
    expect(domain.devices.disks[0]?.target?.dev).toBe('hda');
  });

  test('cpu-numa1 (corpus): a <cpu> without mode, with topology', () => {
    const { cpu } = corpus('cpu-numa1.xml');
    expect(cpu).toEqual({
      mode: undefined, check: undefined, match: undefined, migratable: undefined, model: undefined, vendor: undefined,
      topology: { sockets: 2, dies: 1, clusters: undefined, cores: 4, threads: 2 }, features: [],
    });
  });

  test('a UEFI guest (corpus): os firmware', () => {
    expect(corpus('firmware-auto-efi-enrolled-keys.x86_64-latest.xml').os.firmware).toBe('efi');
  });

  test('custom-cpu-model-vendor-topology (fixture): every cpu field', () => {
    const domain = fixture('custom-cpu-model-vendor-topology.xml');
    expect(domain.uuid).toBe('7c5a0f4e-2f3b-4d8e-9a61-0c1d2e3f4a5b');
    expect(domain.currentMemory).toEqual({ kib: 2097152, value: 2097152, unit: 'KiB' });
    expect(domain.vcpu).toEqual({ count: 4, placement: 'static', current: 2, cpuset: undefined });
    expect(domain.os).toEqual({ type: 'hvm', arch: 'x86_64', machine: 'pc-q35-7.2', firmware: undefined, loader: undefined, boot: ['hd'] });
    expect(domain.cpu).toEqual({
      mode: 'custom', check: 'full', match: 'exact', migratable: 'on',
      model: { name: 'Skylake', fallback: 'allow' }, vendor: 'Intel',
      topology: { sockets: 1, dies: 1, clusters: undefined, cores: 2, threads: 2 },
      features: [{ name: 'x2apic', policy: 'require' }],
    });
  });

  test('tabs-double-quotes (fixture): memory in GiB, firmware, a disk', () => {
    const domain = fixture('tabs-double-quotes.xml');
    expect(domain.memory).toEqual({ kib: 2097152, value: 2, unit: 'GiB' });
    expect(domain.os.firmware).toBe('efi');
    expect(domain.devices.disks[0]).toEqual({
      kind: 'disk', type: 'file', device: 'disk', target: { dev: 'vda', bus: 'virtio' }, source: '/var/lib/libvirt/images/tabs.qcow2',
      driver: { name: 'qemu', type: 'qcow2' }, attributes: { type: 'file', device: 'disk' },
    });
  });

  test('character references are decoded in the model', () => {
    const domain = fixture('character-references.xml');
    expect(domain.name).toBe('café-&<1>');
    expect(domain.title).toBe(`Tom's "lab" 😀`);
    expect(domain.devices.disks[0]?.source).toBe("/images/a&b's ☺.qcow2");
  });

  test('CDATA in a description is text, not markup', () => {
    const domain = fixture('cdata-description.xml');
    expect(domain.description).toBe("Runs <cpu mode='custom'> & friends; see </domain>");
    expect(domain.cpu?.mode).toBe('host-passthrough');
    expect(domain.cpu?.migratable).toBe('on');
  });

  test('odd names: quotes, non-ASCII, a leading dash; a graphics passwd with quotes', () => {
    const domain = fixture('odd-names.xml');
    expect(domain.name).toBe(`-web "prod" 'ü' ☃`);
    expect(domain.title).toBe('Gäste & Größen');
    expect(domain.devices.graphics[0]?.passwd).toBe(`it's "secret"`);
  });

  test('a <cpu> in a comment or inside <metadata> is not the domain cpu', () => {
    expect(fixture('commented-out-cpu.xml').cpu).toBeUndefined();
    expect(fixture('metadata-foreign-cpu.xml').cpu).toBeUndefined();
  });

  test('<x/> and <x></x> are the same to the model', () => {
    const domain = fixture('empty-elements-both-forms.xml');
    expect(domain.features).toEqual(['acpi', 'apic', 'pae']);
    expect(domain.cpu?.mode).toBe('host-model');
    expect(domain.devices.all).toEqual([]);
  });

  test('memory without a unit is KiB; CRLF and MiB', () => {
    expect(fixture('commented-out-cpu.xml').memory).toEqual({ kib: 1048576, value: 1048576, unit: 'KiB' });
    expect(fixture('crlf-bom-declaration.xml').memory).toEqual({ kib: 524288, value: 512, unit: 'MiB' });
  });

  test.each([
    ['bytes', '1073741824', 1048576],
    ['b', '1024', 1],
    ['KB', '1024000', 1000000],
    ['k', '1024', 1024],
    ['KiB', '1024', 1024],
    ['MB', '1000', 976563],
    ['M', '1', 1024],
    ['MiB', '256', 262144],
    ['GB', '2', 1953125],
    ['G', '1', 1048576],
    ['GiB', '4', 4194304],
    ['TiB', '1', 1073741824],
  ])('<memory unit=%j>%s</memory> is %d KiB', (unit, value, kib) => {
    const domain = parseDomain(`<domain><memory unit='${unit}'>${value}</memory><currentMemory unit='${unit}'>${value}</currentMemory></domain>`);
    expect(domain.memory).toEqual({ kib, value: Number(value), unit });
    expect(domain.currentMemory).toEqual({ kib, value: Number(value), unit });
  });

  test('aarch64 and lxc: arch, machine, os type', () => {
    expect(fixture('aarch64.xml').os).toEqual({ type: 'hvm', arch: 'aarch64', machine: 'virt', firmware: undefined, loader: undefined, boot: [] });
    const lxc = fixture('lxc.xml');
    expect(lxc.type).toBe('lxc');
    expect(lxc.os).toEqual({ type: 'exe', arch: undefined, machine: undefined, firmware: undefined, loader: undefined, boot: [] });
    expect(lxc.devices.consoles).toHaveLength(1);
  });

  test('a bare <domain/> has an empty model', () => {
    const domain = parseDomain('<domain/>');
    expect(domain.name).toBeUndefined();
    expect(domain.memory).toBeUndefined();
    expect(domain.vcpu).toBeUndefined();
    expect(domain.cpu).toBeUndefined();
    expect(domain.features).toEqual([]);
    expect(domain.devices.all).toEqual([]);
    expect(domain.devices.disks).toEqual([]);
  });

  test('JSON.stringify(domain) writes every field that is set', () => {
    const domain = fixture('custom-cpu-model-vendor-topology.xml');
    const json = JSON.parse(JSON.stringify(domain));
    expect(Object.keys(json)).toEqual(FIELDS.filter((f) => !['title', 'description'].includes(f)));
    expect(json).toEqual(JSON.parse(JSON.stringify(modelOf(domain))));
    expect(json.cpu.model).toEqual({ name: 'Skylake', fallback: 'allow' });
  });

  test('documentOf gives the scanned source behind a domain', () => {
    const text = "<domain type='kvm'><name>x</name></domain>";
    const doc = documentOf(parseDomain(text));
    expect(doc.source).toBe(text);
    expect(doc.root.children.map((c) => c.name)).toEqual(['name']);
  });
});

describe('the model is read-only', () => {
  /** Paths of every object inside `value` that is not frozen. */
  function unfrozen(value: unknown, path: string): string[] {
    if (value === null || typeof value !== 'object') return [];
    const own = Object.isFrozen(value) ? [] : [path];
    return own.concat(...Object.entries(value).map(([k, v]) => unfrozen(v, `${path}.${k}`)));
  }
  const unfrozenDomain = (domain: Domain) => (Object.isFrozen(domain) ? [] : ['domain'])
    .concat(...FIELDS.map((f) => unfrozen(domain[f], `domain.${f}`)));

  test.each(['custom-cpu-model-vendor-topology.xml', 'tabs-double-quotes.xml', 'odd-names.xml'])('%s is frozen all the way down', (name) => {
    expect(unfrozenDomain(fixture(name))).toEqual([]);
  });

  test('assigning throws in strict mode (ES modules are strict)', () => {
    const domain = fixture('custom-cpu-model-vendor-topology.xml') as unknown as Record<string, any>;
    expect(() => { domain.name = 'other'; }).toThrow(TypeError);
    expect(() => { domain.cpu.mode = 'host-model'; }).toThrow(TypeError);
    expect(() => { domain.cpu.features.push({ name: 'vmx' }); }).toThrow(TypeError);
    expect(() => { domain.cpu.topology.cores = 8; }).toThrow(TypeError);
    expect(() => { domain.memory.kib = 1; }).toThrow(TypeError);
    expect(() => { domain.devices.disks = []; }).toThrow(TypeError);
    expect((domain as unknown as Domain).name).toBe('custom-cpu');
  });

  test('a disk reached through devices is frozen too', () => {
    const disk = fixture('tabs-double-quotes.xml').devices.disks[0] as Disk & Record<string, any>;
    expect(() => { (disk.attributes as Record<string, string>).type = 'block'; }).toThrow(TypeError);
  });
});
