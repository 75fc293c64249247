/**
 * `virt-nested restore` and `virt-nested backups` (the built CLI), and `restoreDefinition` with its
 * race hooks, on the real libvirtd.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreDefinitionWithHooks } from '../../src/apply/restore.js';
import type { VirtNestedError } from '../../src/errors.js';
import { openVirsh } from '../../src/virsh/session.js';
import { schemaErrors } from '../helpers/json-schema.js';
import { hasNoStack, runCli } from './run-cli.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = new Set<string>();
let dir: string;
let backups: string;
beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => {
  await removeGuests(guests);
  await removeDir(dir);
});
beforeEach(() => { backups = mkdtempSync(join(tmpdir(), 'vn-restore-backups-')); });
afterEach(() => rmSync(backups, { recursive: true, force: true }));

const env = () => ({ VIRT_NESTED_BACKUP_DIR: backups, LIBVIRT_DEFAULT_URI: 'qemu:///system' });
const definition = async (name: string) => (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout;

/** A shut-off guest with a VNC password (which a restore must keep), given host-model by set-cpu. */
async function guestAfterSetCpu(prefix: string): Promise<{ name: string; original: string; edited: string; backup: string }> {
  const name = uniqueName(prefix);
  guests.add(name);
  const xml = tcgGuestXml(name, "<graphics type='vnc' passwd='s3cret'/>");
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, xml)])).exitCode).toBe(0);
  const original = await definition(name);
  const set = runCli(['set-cpu', name, '--mode', 'host-model'], { env: env() });
  expect(set.code).toBe(0);
  const backup = /backup of the old definition: (.+)\n/.exec(set.stdout)?.[1] as string;
  return { name, original, edited: await definition(name), backup };
}

test('restore puts back the definition from before set-cpu, byte for byte (secrets included); a second restore undoes it', async () => {
  const { name, original, edited, backup } = await guestAfterSetCpu('vn-restore');
  expect(original).toContain("passwd='s3cret'");
  const r = runCli(['restore', name, '--json'], { env: env() });
  expect([r.code, r.stderr]).toEqual([0, '']);
  const doc = JSON.parse(r.stdout);
  expect(schemaErrors('restore', doc)).toEqual([]);
  expect(doc).toEqual({
    schemaVersion: 1, guest: name, uri: 'qemu:///system', changed: true, restoredFrom: backup,
    backup: expect.stringMatching(new RegExp(`^${backups}/${name}@local-\\d{8}T\\d{6}Z(-\\d+)?\\.xml$`)), forced: false, warnings: [],
  });
  expect(await definition(name)).toBe(original);
  // the replaced definition (set-cpu's) is itself a backup (as the session reads it: without the newline plain virsh adds)
  expect(readFileSync(doc.backup, 'utf8')).toBe(edited.replace(/\n$/, ''));
  const again = runCli(['restore', name], { env: env() });
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(new RegExp(`^guest "${name}": definition restored from ${doc.backup}\\n  backup of the definition it replaced: ${backups}/.+\\.xml\\n$`));
  expect(await definition(name)).toBe(edited);
});

test('a definition changed by another tool since virt-nested wrote it: exit 1, nothing changed; --force restores it', async () => {
  const { name, original, backup } = await guestAfterSetCpu('vn-restore-changed');
  const theirs = (await definition(name)).replace('</name>', '</name>\n  <description>edited by another tool</description>');
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}-theirs.xml`, theirs)])).exitCode).toBe(0);
  const before = await definition(name);
  const refused = runCli(['restore', name], { env: env() });
  expect(refused).toEqual({
    code: 1, stdout: '',
    stderr: `virt-nested: the definition of guest "${name}" was not restored: it is not the one virt-nested last wrote (another tool changed it since); nothing was changed, check it and use --force to restore ${backup} anyway\n`,
  });
  expect(await definition(name)).toBe(before);
  const json = runCli(['restore', name, '--json'], { env: env() });
  expect(json.code).toBe(1);
  expect(schemaErrors('restore', JSON.parse(json.stdout))).toEqual([]);
  expect(JSON.parse(json.stdout)).toMatchObject({ schemaVersion: 1, guest: name, changed: false, error: { code: 'GUEST_CHANGED' } });
  const forced = runCli(['restore', name, '--force', '--backup', backup], { env: env() });
  expect(forced.code).toBe(0);
  expect(forced.stdout).toContain(`definition restored from ${backup} (forced)`);
  expect(await definition(name)).toBe(original);
});

test('a running guest is refused (exit 1); nothing to restore, a missing guest and an unreachable libvirt are exit 2', async () => {
  const { name, edited } = await guestAfterSetCpu('vn-restore-running');
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    expect(runCli(['restore', name], { env: env() })).toEqual({
      code: 1, stdout: '',
      stderr: `virt-nested: guest "${name}" is running; shut it off first (virsh -c qemu:///system shutdown --domain ${name}), then run restore again\n`,
    });
    expect(await definition(name)).toBe(edited);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
  const other = uniqueName('vn-restore-none');
  expect(runCli(['restore', other], { env: env() })).toEqual({
    code: 2, stdout: '',
    stderr: `virt-nested: there is no backup of guest "${other}" at qemu:///system in ${backups}; list them with: virt-nested backups -c qemu:///system\n`,
  });
  const backup = readdirSync(backups).find((f) => f.endsWith('.xml')) as string;
  const missing = runCli(['restore', 'vn-no-such-guest', '--backup', join(backups, backup)], { env: env() });
  expect(missing).toEqual({ code: 2, stdout: '', stderr: `virt-nested: the backup ${join(backups, backup)} is of guest "${name}", not of guest "vn-no-such-guest"; nothing was changed\n` });
  const down = runCli(['restore', name, '-c', 'qemu+tcp://127.0.0.1:1/system', '--json'], { env: env() });
  expect(down.code).toBe(2);
  expect(JSON.parse(down.stdout)).toMatchObject({ schemaVersion: 1, guest: name, uri: 'qemu+tcp://127.0.0.1:1/system', changed: false, error: { code: 'LIBVIRT_UNREACHABLE' } });
  expect(schemaErrors('restore', JSON.parse(down.stdout))).toEqual([]);
  for (const r of [missing, down]) expect(hasNoStack(r)).toBe(true);
});

test('a damaged backup is refused before anything is read from libvirt', async () => {
  const { name, backup } = await guestAfterSetCpu('vn-restore-damaged');
  const before = await definition(name);
  writeFileSync(backup, readFileSync(backup, 'utf8').replace('s3cret', 'changed'));
  expect(runCli(['restore', name], { env: env() })).toEqual({
    code: 2, stdout: '',
    stderr: `virt-nested: the backup ${backup} is not what virt-nested wrote (its SHA-256 differs from the one in its metadata); nothing was changed\n`,
  });
  expect(await definition(name)).toBe(before);
});

test('another define right after the restore\'s define is kept, never rolled back (exit 1)', async () => {
  const { name } = await guestAfterSetCpu('vn-restore-race');
  const session = await openVirsh({ uri: 'qemu:///system' });
  try {
    let theirs = '';
    const error = await restoreDefinitionWithHooks(name, { session, backupDir: backups }, {
      afterDefine: async () => {
        const edited = (await definition(name)).replace('</name>', '</name>\n  <description>theirs</description>');
        expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}-race.xml`, edited)])).exitCode).toBe(0);
        theirs = await definition(name);
      },
    }).catch((e: VirtNestedError) => e);
    expect((error as VirtNestedError).code).toBe('GUEST_CHANGED');
    expect(await definition(name)).toBe(theirs);
  } finally {
    await session.close();
  }
});

test('backups lists per guest and host, as text and as JSON; --help shows each command\'s usage', async () => {
  const a = await guestAfterSetCpu('vn-backups-a');
  const b = await guestAfterSetCpu('vn-backups-b');
  const text = runCli(['backups'], { env: env() });
  expect(text.code).toBe(0);
  const [first, second] = [a, b].sort((x, y) => x.name.localeCompare(y.name));
  expect(text.stdout).toMatch(new RegExp(
    `^guest "${first?.name}" at qemu:///system:\\n  \\S+Z  set-cpu, then defined by virt-nested  ${first?.backup}\\n` +
    `guest "${second?.name}" at qemu:///system:\\n  \\S+Z  set-cpu, then defined by virt-nested  ${second?.backup}\\n$`));
  const json = runCli(['backups', a.name, '--json'], { env: env() });
  expect(json.code).toBe(0);
  const doc = JSON.parse(json.stdout);
  expect(schemaErrors('backups', doc)).toEqual([]);
  expect(doc).toMatchObject({ schemaVersion: 1, backupDir: backups, backups: [{ guest: a.name, uri: 'qemu:///system', host: 'local', file: a.backup, reason: 'set-cpu' }] });
  expect(runCli(['backups', 'vn-none', '--json'], { env: env() }).stdout).toBe(`${JSON.stringify({ schemaVersion: 1, backupDir: backups, backups: [] }, null, 2)}\n`);
  expect(runCli(['backups', 'vn-none'], { env: env() })).toEqual({ code: 0, stdout: `no backups in ${backups}\n`, stderr: '' });
  const help = runCli(['restore', '--help']);
  expect([help.code, help.stdout.split('\n')[0]]).toEqual([0, 'Usage: virt-nested restore [options] <guest>']);
  expect(runCli(['backups', '--help']).stdout.split('\n')[0]).toBe('Usage: virt-nested backups [options] [guest]');
});
