/**
 * The refusal to reload while a guest runs, against the real libvirtd: a throw-away TCG guest is
 * defined and started on qemu:///system, and removed afterwards even when a test fails. The fixture's
 * refcnt stands for the kernel's count of a KVM guest (a TCG guest holds no module here); libvirt only
 * names the guest. modprobe is never run: the runner passes virsh to the real one and only records modprobe.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableHost, GuestsRunningError, listRunningGuests, runCommand, type CommandRunner } from '../../src/host/index.js';
import { copyFixture, removeCopies } from './fixture-trees.js';

const URI = 'qemu:///system';
const name = `vn-host-test-${randomBytes(4).toString('hex')}`;
let scratch: string;

const virsh = (...args: string[]) => runCommand('virsh', ['-c', URI, ...args]);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vn-guest-'));
  const xml = join(scratch, `${name}.xml`);
  await writeFile(xml, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>48</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>\n`);
  const defined = await virsh('define', xml);
  expect(defined.stderr).toBe('');
  const started = await virsh('start', name);
  expect(started.stderr).toBe('');
});

afterAll(async () => {
  await virsh('destroy', name);
  await virsh('undefine', name);
  await rm(scratch, { recursive: true, force: true });
  await removeCopies();
});

test('libvirt lists the guest as running', async () => {
  expect((await listRunningGuests(runCommand, URI)).guests).toContain(name);
});

test('enable-host --reload refuses, names the guest, runs no modprobe and writes nothing', async () => {
  const root = await copyFixture('intel-nested-off');
  await writeFile(join(root, 'sys/module/kvm_intel/refcnt'), '1\n');
  const modprobe: string[][] = [];
  const run: CommandRunner = async (file, args, options) => {
    if (file === 'virsh') return runCommand(file, args, options);
    modprobe.push([file, ...args]);
    return { stdout: '', stderr: '', exitCode: 0 };
  };
  const error = await enableHost({ root, run, uid: 0, reload: true, uri: URI }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GuestsRunningError);
  const refusal = error as GuestsRunningError;
  expect(refusal.code).toBe('GUESTS_RUNNING');
  expect(refusal.guests).toContain(name);
  expect(refusal.message).toContain(`"${name}"`);
  // Other tests may run guests beside ours: the sentence is exact up to the list of names.
  expect(refusal.message).toMatch(new RegExp(`^guests? .*"${name}".* (is|are) running on qemu:///system, so kvm_intel was not reloaded and nothing was changed; shut (it|them) down first`));
  expect(modprobe).toEqual([]);
  expect(await readdir(root)).not.toContain('etc');
});

test('a paused guest still holds /dev/kvm: enable-host --reload refuses and names it too', async () => {
  const suspended = await virsh('suspend', '--domain', name);
  expect([suspended.exitCode, suspended.stderr]).toEqual([0, '']);
  try {
    expect((await virsh('domstate', '--domain', name)).stdout.trim()).toBe('paused');
    const root = await copyFixture('intel-nested-off');
    await writeFile(join(root, 'sys/module/kvm_intel/refcnt'), '1\n');
    const modprobe: string[][] = [];
    const run: CommandRunner = async (file, args, options) => {
      if (file === 'virsh') return runCommand(file, args, options);
      modprobe.push([file, ...args]);
      return { stdout: '', stderr: '', exitCode: 0 };
    };
    expect((await listRunningGuests(runCommand, URI)).guests).toContain(name);
    const error = await enableHost({ root, run, uid: 0, reload: true, uri: URI }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestsRunningError);
    const refusal = error as GuestsRunningError;
    expect(refusal.code).toBe('GUESTS_RUNNING');
    expect(refusal.guests).toContain(name);
    expect(refusal.message).toMatch(new RegExp(`^guests? .*"${name}".* (is|are) running on qemu:///system, so kvm_intel was not reloaded and nothing was changed; shut (it|them) down first`));
    expect(modprobe).toEqual([]);
    expect(await readdir(root)).not.toContain('etc');
  } finally {
    await virsh('resume', '--domain', name);
  }
});

test('the same guest running but the kernel counting no user of the module: libvirt is not asked, the reload goes ahead', async () => {
  const root = await copyFixture('intel-nested-off');
  const calls: string[][] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push([file, ...args]);
    return { stdout: '', stderr: '', exitCode: 0 };
  };
  const result = await enableHost({ root, run, uid: 0, reload: true, uri: URI });
  expect(result.reload).toBe('done');
  expect(calls).toEqual([['modprobe', '-r', 'kvm_intel'], ['modprobe', 'kvm_intel']]);
});
