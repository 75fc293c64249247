import { readFileSync } from 'node:fs';
import { isX86, kvmModuleFor, parseCpuinfo, virtualizationFlagFor } from '../../src/host/cpuinfo.js';
import { fixtureRoot } from './fixture-trees.js';

const cpuinfo = (name: string) => readFileSync(`${fixtureRoot(name)}/proc/cpuinfo`, 'utf8');

test('an Intel host: x86_64, GenuineIntel, vmx, and kvm_intel', () => {
  const cpu = parseCpuinfo(cpuinfo('intel-nested-on'));
  expect(cpu.arch).toBe('x86_64');
  expect(cpu.vendor).toBe('GenuineIntel');
  expect(cpu.flags).toContain('vmx');
  expect(cpu.flags).not.toContain('svm');
  expect(cpu.flags).toHaveLength(135);
  expect(kvmModuleFor(cpu)).toBe('kvm_intel');
});

test('an AMD host: svm, and kvm_amd; svm_lock is not svm', () => {
  const cpu = parseCpuinfo(cpuinfo('amd-nested-1'));
  expect([cpu.arch, cpu.vendor, kvmModuleFor(cpu)]).toEqual(['x86_64', 'AuthenticAMD', 'kvm_amd']);
  const lockOnly = parseCpuinfo('vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm_lock lm\n');
  expect(lockOnly.flags.includes('svm')).toBe(false);
  expect(kvmModuleFor(lockOnly)).toBe('kvm_amd');
});

test('the "vmx flags" line of newer kernels is not the flags line', () => {
  const cpu = parseCpuinfo('vendor_id\t: GenuineIntel\nvmx flags\t: ept vpid\nflags\t\t: fpu lm\n');
  expect(cpu.flags).toEqual(['fpu', 'lm']);
  expect(kvmModuleFor(cpu)).toBe('kvm_intel');
});

test('the first processor speaks for the machine', () => {
  const cpu = parseCpuinfo('processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: vmx lm\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\nflags\t\t: svm\n');
  expect(cpu).toEqual({ arch: 'x86_64', vendor: 'GenuineIntel', flags: ['vmx', 'lm'] });
});

test('a machine like this project\'s: AMD with hypervisor and no svm still needs kvm_amd', () => {
  const cpu = parseCpuinfo(cpuinfo('no-vmx-svm'));
  expect(cpu.flags).toContain('hypervisor');
  expect(cpu.flags).not.toContain('svm');
  expect(kvmModuleFor(cpu)).toBe('kvm_amd');
});

test('other architectures', () => {
  expect(parseCpuinfo(cpuinfo('aarch64'))).toEqual({ arch: 'aarch64', vendor: undefined, flags: [] });
  expect(parseCpuinfo('processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\nplatform\t: pSeries\n').arch).toBe('ppc64');
  expect(parseCpuinfo('vendor_id       : IBM/S390\n# processors    : 2\nfeatures\t: esan3 zarch\n').arch).toBe('s390x');
  expect(parseCpuinfo('processor\t: 0\nisa\t\t: rv64imafdc\n').arch).toBe('riscv64');
  expect(parseCpuinfo('model name\t: ARMv7 Processor rev 4 (v7l)\nCPU architecture: 7\n').arch).toBe('arm');
  expect(parseCpuinfo('vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx\n').arch).toBe('i686');
  expect(parseCpuinfo('').arch).toBe('unknown');
  expect(kvmModuleFor(parseCpuinfo(cpuinfo('aarch64')))).toBeUndefined();
});

test('vendors KVM knows, and flags per module', () => {
  expect(kvmModuleFor({ arch: 'x86_64', vendor: 'HygonGenuine', flags: [] })).toBe('kvm_amd');
  expect(kvmModuleFor({ arch: 'x86_64', vendor: 'CentaurHauls', flags: [] })).toBe('kvm_intel');
  expect(kvmModuleFor({ arch: 'x86_64', vendor: 'Shanghai', flags: [] })).toBe('kvm_intel');
  expect(kvmModuleFor({ arch: 'x86_64', vendor: 'SomeoneElse', flags: [] })).toBeUndefined();
  expect(virtualizationFlagFor('kvm_intel')).toBe('vmx');
  expect(virtualizationFlagFor('kvm_amd')).toBe('svm');
  expect(isX86('aarch64')).toBe(false);
});
