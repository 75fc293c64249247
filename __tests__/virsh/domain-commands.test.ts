import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VirshError, VirtNestedError } from '../../src/errors.js';
import { openVirsh, quoteVirshArgument, type VirshSession } from '../../src/virsh/index.js';
import { SYSTEM_URI, makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from './throwaway-guests.js';

const oddNames = [uniqueName('-vn odd name ü'), uniqueName(`it's "quoted"`)];
const vncGuest = uniqueName('vn-vnc');
const unvalidatedGuest = uniqueName('vn-unvalidated');
const allGuests = [...oddNames, vncGuest, unvalidatedGuest];

let dir: string;
let spawnLog: string;
let virsh: VirshSession;

beforeAll(async () => {
  dir = await makeTempDir();
  spawnLog = join(dir, 'spawns.log');
  // Every spawn of virsh is logged, to prove the whole file runs through one process.
  const counting = await writeTemp(dir, 'counting-virsh', '#!/bin/sh\necho "$$" >> "$VN_SPAWN_LOG"\nexec virsh "$@"\n');
  await chmod(counting, 0o755);
  virsh = await openVirsh({ uri: SYSTEM_URI, virshPath: counting, env: { VN_SPAWN_LOG: spawnLog } });
});

afterAll(async () => {
  try {
    await virsh?.close();
  } finally {
    await removeGuests(allGuests);
    await removeDir(dir);
  }
});

async function rejection(promise: Promise<unknown>): Promise<VirshError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VirshError);
  return error as VirshError;
}

const dumpxmlFlags = (options: { inactive?: boolean; securityInfo?: boolean }): string[] => [
  ...(options.inactive === true ? ['--inactive'] : []),
  ...(options.securityInfo === true ? ['--security-info'] : []),
];

describe.each(oddNames)('the guest %j', (name) => {
  test('defines through the session and is shut off', async () => {
    const file = await writeTemp(dir, `${oddNames.indexOf(name)}.xml`, tcgGuestXml(name));
    await virsh.define(file);
    expect(await virsh.domstate(name)).toBe('shut off');
    expect(await virsh.listGuests({ all: true })).toContain(name);
    expect(await virsh.listGuests({ state: 'shutoff', persistent: true })).toContain(name);
    expect(await virsh.listGuests()).not.toContain(name);
  });

  test.each([{}, { inactive: true }, { securityInfo: true }, { inactive: true, securityInfo: true }])(
    'dumpxml %j is byte for byte what a separate virsh dumpxml prints',
    async (options) => {
      const reference = await plainVirsh(['-q', 'dumpxml', '--domain', name, ...dumpxmlFlags(options)]);
      expect(reference.exitCode).toBe(0);
      const xml = await virsh.dumpxml(name, options);
      expect(xml).toBe(reference.stdout);
      // Without -q virsh adds an empty line after every command; it is not part of libvirt's XML.
      expect((await plainVirsh(['dumpxml', '--domain', name, ...dumpxmlFlags(options)])).stdout).toBe(`${xml}\n`);
      expect(xml).toContain(`<name>${name.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll("'", '&apos;').replaceAll('"', '&quot;')}</name>`);
      expect(xml.endsWith('</domain>\n')).toBe(true);
    },
  );

  test('starts, answers QMP, shows its live XML, and is destroyed', async () => {
    await virsh.start(name);
    expect(await virsh.domstate(name)).toBe('running');
    expect(await virsh.listGuests()).toContain(name);
    const live = await virsh.dumpxml(name);
    expect(live).toBe((await plainVirsh(['-q', 'dumpxml', '--domain', name])).stdout);
    expect(live).toMatch(/^<domain type='qemu' id='\d+'>/);
    expect(await virsh.dumpxml(name, { inactive: true })).toMatch(/^<domain type='qemu'>/);

    const reply = await virsh.qemuMonitorCommand(name, { execute: 'qom-get', arguments: { path: '/machine/unattached/device[0]', property: 'svm' } });
    expect(JSON.parse(reply)).toMatchObject({ return: true });

    const again = await rejection(virsh.start(name));
    expect(again.code).toBe('VIRSH_FAILED');
    expect(again.message).toBe('virsh start failed at qemu:///system: Domain is already active');

    await virsh.shutdown(name, { mode: 'acpi' });
    await virsh.destroy(name);
    expect(await virsh.domstate(name)).toBe('shut off');
  });

  test('QMP on a shut-off guest is GUEST_NOT_RUNNING', async () => {
    const error = await rejection(virsh.qemuMonitorCommand(name, '{"execute":"query-status"}'));
    expect(error.code).toBe('GUEST_NOT_RUNNING');
    expect(error.message).toBe(`guest "${name}" is not running at qemu:///system; start it first (virsh -c qemu:///system start --domain ${quoteVirshArgument(name)})`);
  });

  test('undefines, and is then GUEST_NOT_FOUND with the exact message', async () => {
    await virsh.undefine(name);
    const error = await rejection(virsh.domstate(name));
    expect(error.code).toBe('GUEST_NOT_FOUND');
    expect(error.message).toBe(`guest "${name}" was not found at qemu:///system`);
    expect((await rejection(virsh.dumpxml(name, { inactive: true, securityInfo: true }))).code).toBe('GUEST_NOT_FOUND');
    expect(await virsh.listGuests({ all: true })).not.toContain(name);
  });
});

describe('dumpxml options', () => {
  test('securityInfo keeps the VNC password that a plain dumpxml drops', async () => {
    const file = await writeTemp(dir, 'vnc.xml', tcgGuestXml(vncGuest, "<graphics type='vnc' port='-1' autoport='yes' passwd='s3cret'/>"));
    await virsh.define(file);
    expect(await virsh.dumpxml(vncGuest, { inactive: true })).not.toContain('passwd=');
    expect(await virsh.dumpxml(vncGuest, { inactive: true, securityInfo: true })).toContain("passwd='s3cret'");
  });
});

describe('define', () => {
  test('an invalid definition is DEFINE_FAILED with libvirt\'s own reason, and nothing is defined', async () => {
    const name = uniqueName('vn-invalid');
    const file = await writeTemp(dir, 'invalid.xml', tcgGuestXml(name).replace('</domain>', '<bogus/>\n</domain>'));
    const error = await rejection(virsh.define(file));
    expect(error.code).toBe('DEFINE_FAILED');
    expect(error.message).toBe(
      `libvirt at qemu:///system refused the definition in ${file}: XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domain.rng: Element domain has extra content: bogus`,
    );
    expect(error.command).toEqual([expect.stringContaining('counting-virsh'), '-c', 'qemu:///system', 'define', '--file', file, '--validate']);
    // the virsh failure it was made from is kept as its cause, as for every other session error
    expect(error.cause).toMatchObject({ code: 'VIRSH_FAILED', command: error.command, stderr: error.stderr });
    expect((await rejection(virsh.domstate(name))).code).toBe('GUEST_NOT_FOUND');
  });

  test('validate: false leaves the schema check to libvirt\'s parser, which ignores unknown elements', async () => {
    const file = await writeTemp(dir, 'unvalidated.xml', tcgGuestXml(unvalidatedGuest).replace('</domain>', '<bogus/>\n</domain>'));
    await virsh.define(file, { validate: false });
    expect(await virsh.dumpxml(unvalidatedGuest, { inactive: true })).not.toContain('bogus');
  });

  test('a missing file is DEFINE_FAILED naming it', async () => {
    const error = await rejection(virsh.define('/nonexistent/guest.xml'));
    expect([error.code, error.message]).toEqual([
      'DEFINE_FAILED',
      "libvirt at qemu:///system refused the definition in /nonexistent/guest.xml: Failed to open file '/nonexistent/guest.xml': No such file or directory",
    ]);
  });

  test('an empty path or guest name is USAGE', async () => {
    await expect(virsh.define('')).rejects.toBeInstanceOf(VirtNestedError);
    await expect(virsh.domstate('')).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('afterwards', () => {
  test('all of the above ran in one virsh process', async () => {
    expect((await readFile(spawnLog, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
