/**
 * Throw-away guests for fleet tests: TCG guests of several kinds on the real libvirtd (with the exact
 * definition each must have after `set-cpu --mode host-model`), and node files for libvirt's test driver.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { plainVirsh, writeTemp } from '../virsh/throwaway-guests.js';

/** What a guest's `<cpu>` looks like before the edit. */
export type GuestKind = 'plain' | 'topology' | 'vnc' | 'host-model';

const CPU_BEFORE: Record<GuestKind, string> = {
  plain: '',
  topology: "  <cpu mode='custom' match='exact'>\n    <model>qemu64</model>\n    <topology sockets='1' dies='1' cores='2' threads='1'/>\n    <feature policy='require' name='x2apic'/>\n  </cpu>\n",
  vnc: '',
  'host-model': "  <cpu mode='host-model' check='partial'/>\n",
};

/** The `<cpu>` libvirt keeps after `set-cpu --mode host-model`, byte for byte. */
export const CPU_AFTER: Record<GuestKind, string> = {
  plain: "<cpu mode='host-model' check='partial'/>",
  topology: "<cpu mode='host-model' check='partial'>\n    <topology sockets='1' dies='1' cores='2' threads='1'/>\n    <feature policy='require' name='x2apic'/>\n  </cpu>",
  vnc: "<cpu mode='host-model' check='partial'/>",
  'host-model': "<cpu mode='host-model' check='partial'/>",
};

/** A 48 MiB TCG guest without disks, with the `<cpu>` (and VNC password) of its kind. */
export function qemuGuestXml(name: string, kind: GuestKind): string {
  return [
    "<domain type='qemu'>",
    `  <name>${name}</name>`,
    "  <memory unit='MiB'>48</memory>",
    `  <vcpu>${kind === 'topology' ? 2 : 1}</vcpu>`,
    '  <os>',
    "    <type arch='x86_64' machine='pc'>hvm</type>",
    '  </os>',
    CPU_BEFORE[kind].replace(/\n$/, ''),
    '  <devices>',
    kind === 'vnc' ? `    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='p${name.slice(-6)}'/>` : '',
    '  </devices>',
    '</domain>',
    '',
  ].filter((line) => line !== '').join('\n');
}

/** The persistent definition as libvirt has it, with secrets (a plain one-shot virsh). */
export async function definition(name: string): Promise<string> {
  const r = await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name]);
  if (r.exitCode !== 0) throw new Error(`dumpxml ${name}: ${r.stderr}`);
  return r.stdout;
}

const CPU_ELEMENT = /<cpu\b[^>]*\/>|<cpu\b[^>]*>[\s\S]*?<\/cpu>/g;

/** `original` with its one `<cpu>` element replaced by what host-model gives a guest of `kind`. */
export function expectedAfterHostModel(original: string, kind: GuestKind): string {
  const found = original.match(CPU_ELEMENT) ?? [];
  if (found.length !== 1) throw new Error(`expected one <cpu> element, found ${found.length}`);
  return original.replace(CPU_ELEMENT, CPU_AFTER[kind]);
}

/** Defines a TCG guest and returns its definition as libvirt keeps it. */
export async function defineQemuGuest(dir: string, name: string, kind: GuestKind): Promise<string> {
  const r = await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, qemuGuestXml(name, kind))]);
  if (r.exitCode !== 0) throw new Error(`define ${name}: ${r.stderr}`);
  return definition(name);
}

/** Puts a guest's original definition back, and checks that libvirt has exactly it again. */
export async function redefine(dir: string, name: string, original: string): Promise<void> {
  const r = await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.original.xml`, original)]);
  if (r.exitCode !== 0) throw new Error(`define ${name}: ${r.stderr}`);
  const now = await definition(name);
  if (now !== original) throw new Error(`redefining ${name} did not give back its original definition`);
}

/** `virsh domid` (a running guest keeps its id until it is stopped). */
export async function domid(name: string): Promise<string> {
  return (await plainVirsh(['domid', '--domain', name])).stdout.trim();
}

/** A guest of libvirt's test driver: `running` or shut off (`<test:runstate>5</test:runstate>`). */
export interface TestDriverGuest {
  readonly name: string;
  readonly running: boolean;
  /** The guest's `<cpu>` element, or '' for none. */
  readonly cpu: string;
}

/**
 * Writes a node file for `test:///PATH` holding `guests` and returns the URI. The test driver forgets
 * every change when its connection closes: read results within the same call.
 */
export async function writeTestDriverNode(dir: string, guests: readonly TestDriverGuest[]): Promise<string> {
  const domains = guests.map((guest) => [
    "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>",
    `    <name>${guest.name}</name>`,
    "    <memory unit='MiB'>48</memory>",
    "    <os><type arch='x86_64'>hvm</type></os>",
    ...(guest.cpu === '' ? [] : [`    ${guest.cpu}`]),
    ...(guest.running ? [] : ['    <test:runstate>5</test:runstate>']),
    '  </domain>',
  ].join('\n'));
  const file = join(dir, 'test-node.xml');
  await writeFile(file, `<node>\n${domains.join('\n')}\n</node>\n`);
  return `test://${file}`;
}
