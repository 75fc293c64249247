import { readdirSync, readFileSync } from 'node:fs';
import { lastMessage, parseCpuModes } from '../../src/host/domcapabilities.js';

const CORPUS = new URL('../../fixtures/libvirt-9.0.0/domcaps/', import.meta.url);

test('host-model and host-passthrough from libvirt\'s own domcapabilities outputs', () => {
  const read = (name: string) => parseCpuModes(readFileSync(new URL(name, CORPUS), 'utf8'));
  expect(read('qemu_7.2.0.x86_64.xml')).toEqual({ hostModel: true, hostPassthrough: true });
  expect(read('qemu_4.2.0.aarch64.xml')).toEqual({ hostModel: false, hostPassthrough: true });
  expect(read('empty.xml')).toEqual({ hostModel: false, hostPassthrough: false });
  expect(read('bhyve_basic.x86_64.xml')).toEqual({ hostModel: false, hostPassthrough: false });
});

test('every corpus document answers for host-model', () => {
  const names = readdirSync(CORPUS).filter((name) => name.endsWith('.xml'));
  expect(names.length).toBeGreaterThan(50);
  for (const name of names) {
    const modes = parseCpuModes(readFileSync(new URL(name, CORPUS), 'utf8'));
    expect({ name, known: typeof modes.hostModel }).toEqual({ name, known: 'boolean' });
  }
});

test('a document without modes, or not XML, answers nothing', () => {
  expect(parseCpuModes('<domainCapabilities/>')).toEqual({ hostModel: undefined, hostPassthrough: undefined });
  expect(parseCpuModes('<<<')).toEqual({ hostModel: undefined, hostPassthrough: undefined });
  expect(parseCpuModes("<domainCapabilities><cpu><mode name='host-model' supported='yes'/></cpu></domainCapabilities>")).toEqual({ hostModel: true, hostPassthrough: undefined });
});

test("libvirt's last message, without virsh's prefix", () => {
  expect(lastMessage('error: failed to connect to the hypervisor\nerror: Failed to connect socket to \'/nonexistent\': No such file or directory\n')).toBe("Failed to connect socket to '/nonexistent': No such file or directory");
  expect(lastMessage('')).toBe('');
});

test("libvirt's last message keeps the lines that continue it; a stderr without libvirt errors gives its last line", () => {
  const schema =
    'error: Failed to define domain from /tmp/web-1.xml\n' +
    'error: XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domain.rng\n' +
    'Extra element cpu in interleave\n' +
    'Element domain failed to validate content\n\n';
  expect(lastMessage(schema)).toBe(
    'XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domain.rng: Extra element cpu in interleave: Element domain failed to validate content',
  );
  expect(lastMessage('modprobe: FATAL: Module kvm_intel is in use.\n')).toBe('modprobe: FATAL: Module kvm_intel is in use.');
  expect(lastMessage('virsh: command not found')).toBe('virsh: command not found');
});
