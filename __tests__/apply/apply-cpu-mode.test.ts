import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { applyCpuMode, applyCpuModeWithHooks, type VirshCommands } from '../../src/apply/apply-cpu-mode.js';
import { GuestNotShutOffError, VirtNestedError } from '../../src/errors.js';
import { openVirsh, type VirshSession } from '../../src/virsh/session.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = new Set<string>();
let dir: string;
let backups: string;
let session: VirshSession;

beforeAll(async () => {
  dir = await makeTempDir();
  session = await openVirsh({ uri: 'qemu:///system' });
});
afterAll(async () => {
  await session?.close();
  await removeGuests(guests);
  await removeDir(dir);
});
beforeEach(() => { backups = mkdtempSync(join(tmpdir(), 'vn-backups-')); });
afterEach(() => rmSync(backups, { recursive: true, force: true }));

const TOPOLOGY_CPU = "<cpu mode='custom' match='exact' check='full'>\n    <model fallback='allow'>qemu64</model>\n    <topology sockets='1' dies='1' cores='1' threads='1'/>\n  </cpu>";

/** A guest whose CPU can start under TCG (check='partial'), or, with `cpu`, any other. */
const STARTABLE_CPU = "<cpu mode='custom' match='exact' check='partial'>\n    <model fallback='allow'>qemu64</model>\n  </cpu>";

async function defineGuest(prefix: string, cpu = STARTABLE_CPU): Promise<string> {
  const name = uniqueName(prefix);
  guests.add(name);
  const xml = tcgGuestXml(name, "<graphics type='vnc' passwd='s3cret'/>").replace('</os>\n', `</os>\n  ${cpu}\n`);
  const r = await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, xml)]);
  expect(r.exitCode).toBe(0);
  return name;
}

/** The persistent definition, read by a separate plain virsh (which prints a newline after the document). */
const definition = async (name: string) =>
  (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout.replace(/\n$/, '');

test('a shut-off guest gets the mode and check, keeps topology and its VNC password, and then starts', async () => {
  const name = await defineGuest('vn-apply', TOPOLOGY_CPU);
  const before = await definition(name);
  // the trap check='partial' avoids: a custom model with check='full' does not start under TCG here
  expect((await plainVirsh(['start', '--domain', name])).stderr).toContain("guest CPU doesn't match specification: extra features");
  const result = await applyCpuMode(name, 'host-model', { session, backupDir: backups });
  const after = await definition(name);
  expect(result).toMatchObject({ guest: name, uri: 'qemu:///system', mode: 'host-model', changed: true, dryRun: false });
  expect(result.before).toMatchObject({ mode: 'custom', match: 'exact', check: 'full' });
  expect(result.after).toMatchObject({ mode: 'host-model', check: 'partial', topology: { sockets: 1, dies: 1, cores: 1, threads: 1 } });
  expect(after).toContain("<cpu mode='host-model' check='partial'>\n    <topology sockets='1' dies='1' cores='1' threads='1'/>\n  </cpu>");
  expect(after).toContain("passwd='s3cret'");
  // only the <cpu> element differs
  const strip = (x: string) => x.replace(/<cpu[\s\S]*?<\/cpu>/, '<cpu/>');
  expect(strip(after)).toBe(strip(before));
  // the backup is the old definition, mode 0600, secrets included, with its metadata beside it
  const stem = `${name}@local-`;
  const files = readdirSync(backups).sort();
  expect(files).toEqual([expect.stringMatching(new RegExp(`^${stem}\\d{8}T\\d{6}Z\\.json$`)), expect.stringMatching(new RegExp(`^${stem}\\d{8}T\\d{6}Z\\.xml$`))]);
  expect(result.backup).toBe(join(backups, files[1] as string));
  expect(statSync(result.backup as string).mode & 0o777).toBe(0o600);
  expect(readFileSync(result.backup as string, 'utf8')).toBe(before);
  const metadata = JSON.parse(readFileSync(join(backups, files[0] as string), 'utf8'));
  expect(statSync(join(backups, files[0] as string)).mode & 0o777).toBe(0o600);
  expect(metadata).toEqual({
    schemaVersion: 1, guest: name, uri: 'qemu:///system', host: 'local', uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    createdAt: expect.any(String), sha256: createHash('sha256').update(before).digest('hex'), reason: 'set-cpu',
    // what virt-nested defined, as read back: restore compares the guest's definition with it
    defined: { sha256: createHash('sha256').update(after).digest('hex'), at: expect.any(String) },
  });
  expect(result.warnings).toContainEqual({ code: 'nested-guests-block-save', message: 'while the guest runs nested guests it cannot be saved or live-migrated; stop them first' });
  // the guest starts with its new CPU
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  await plainVirsh(['destroy', '--domain', name]);
});

test('a second run reports unchanged and defines nothing', async () => {
  const name = await defineGuest('vn-apply-twice');
  await applyCpuMode(name, 'host-model', { session, backupDir: backups });
  const once = await definition(name);
  rmSync(backups, { recursive: true, force: true });
  const again = await applyCpuMode(name, 'host-model', { session, backupDir: backups });
  expect(again).toMatchObject({ changed: false, backup: null });
  expect(await definition(name)).toBe(once);
  expect(() => readdirSync(backups)).toThrow();
});

test('a running guest is refused and its definition is byte-identical', async () => {
  const name = await defineGuest('vn-apply-running');
  const before = await definition(name);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    const error = await applyCpuMode(name, 'host-model', { session, backupDir: backups }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestNotShutOffError);
    expect((error as GuestNotShutOffError).state).toBe('running');
    expect((error as GuestNotShutOffError).reason).toBe('running');
    expect((error as Error).message).toBe(`guest "${name}" is running; shut it off first (virsh -c qemu:///system shutdown --domain ${name}), then run set-cpu again`);
    expect(await definition(name)).toBe(before);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('dry run reports the change and changes nothing', async () => {
  const name = await defineGuest('vn-apply-dry');
  const before = await definition(name);
  const result = await applyCpuMode(name, 'host-model', { session, backupDir: backups, dryRun: true });
  expect(result).toMatchObject({ changed: true, dryRun: true, backup: null, after: { mode: 'host-model', check: 'partial' } });
  expect(await definition(name)).toBe(before);
});

test('host-passthrough on a TCG guest is refused by domcapabilities, nothing changed', async () => {
  const name = await defineGuest('vn-apply-pt');
  const before = await definition(name);
  const error = await applyCpuMode(name, 'host-passthrough', { session, backupDir: backups }).catch((e: unknown) => e);
  expect((error as VirtNestedError).code).toBe('MODE_UNSUPPORTED');
  expect((error as Error).message).toBe(`host-passthrough is not supported for guest "${name}" (qemu x86_64 pc-i440fx-7.2) according to libvirt's domcapabilities at qemu:///system; nothing was changed`);
  expect(await definition(name)).toBe(before);
});

test('a define that libvirt rejects restores nothing-changed and reports libvirt\'s message', async () => {
  const name = await defineGuest('vn-apply-reject');
  const before = await definition(name);
  const error = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, {
    transform: (xml) => xml.replace("<memory unit='KiB'>", "<memory unit='bogus'>"),
  }).catch((e: unknown) => e);
  expect((error as VirtNestedError).code).toBe('DEFINE_FAILED');
  // libvirt's reason, not virsh's line about our temp file (gone by the time anyone reads this)
  expect((error as Error).message).not.toContain('/tmp/virt-nested-');
  expect((error as Error).message).toMatch(new RegExp(`^libvirt refused the new definition of guest "${name}": .+; the original is kept \\(backup: ${backups}/.+\\.xml\\)$`));
  expect(await definition(name)).toBe(before);
});

test('a define whose result is not what was asked is rolled back from the backup', async () => {
  const name = await defineGuest('vn-apply-verify');
  const before = await definition(name);
  const error = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, {
    transform: (xml) => xml.replace("mode='host-model' check='partial'", "mode='host-model' check='none'"),
  }).catch((e: unknown) => e);
  expect((error as VirtNestedError).code).toBe('VERIFY_FAILED');
  expect((error as Error).message).toMatch(/^after define, guest ".+" has cpu mode='host-model' check='none', not mode='host-model' check='partial'; the original was restored from .+\.xml$/);
  expect(await definition(name)).toBe(before);
});

test('compare-and-swap: a guest started meanwhile is refused, nothing changed', async () => {
  const name = await defineGuest('vn-apply-race-start');
  const before = await definition(name);
  try {
    const error = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, {
      beforeRecheck: async () => { await plainVirsh(['start', '--domain', name]); },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`guest "${name}" became running while it was being edited; nothing was changed`);
    expect(await definition(name)).toBe(before);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('compare-and-swap: a definition edited meanwhile is refused, and the other edit is kept', async () => {
  const name = await defineGuest('vn-apply-race-edit');
  let theirs = '';
  const error = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, {
    beforeRecheck: async () => {
      const edited = (await definition(name)).replace('</name>', '</name>\n  <description>edited by another tool</description>');
      await plainVirsh(['define', '--file', await writeTemp(dir, `${name}-other.xml`, edited)]);
      theirs = await definition(name);
    },
  }).catch((e: unknown) => e);
  expect((error as VirtNestedError).code).toBe('GUEST_CHANGED');
  expect(await definition(name)).toBe(theirs);
  expect(theirs).toContain('edited by another tool');
});

test('libvirt reads the new definition from a 0600 file in the 0700 backup directory (not TMPDIR), removed whatever the outcome', async () => {
  const seen: Array<{ file: string; mode: number; dirMode: number }> = [];
  const watching: VirshCommands = {
    get uri() { return session.uri; },
    run: session.run,
    dumpxml: session.dumpxml,
    domcapabilities: session.domcapabilities,
    define: async (file, options) => {
      seen.push({ file, mode: statSync(file).mode & 0o777, dirMode: statSync(dirname(file)).mode & 0o777 });
      return session.define(file, options);
    },
  };
  const leftovers = () => readdirSync(backups).filter((f) => f.startsWith('.'));
  // defined
  const defined = await defineGuest('vn-apply-stage');
  expect(await applyCpuMode(defined, 'host-model', { session: watching, backupDir: backups })).toMatchObject({ changed: true });
  expect(leftovers()).toEqual([]);
  // refused by libvirt: the original was never replaced, so nothing is defined to restore it
  const refused = await defineGuest('vn-apply-stage-bad');
  const error = await applyCpuModeWithHooks(refused, 'host-model', { session: watching, backupDir: backups }, {
    transform: (xml) => xml.replace("<memory unit='KiB'>", "<memory unit='bogus'>"),
  }).catch((e: unknown) => e);
  expect((error as VirtNestedError).code).toBe('DEFINE_FAILED');
  expect(leftovers()).toEqual([]);
  // refused by the compare-and-swap: never defined
  const raced = await defineGuest('vn-apply-stage-race');
  try {
    const race = await applyCpuModeWithHooks(raced, 'host-model', { session: watching, backupDir: backups }, {
      beforeRecheck: async () => { await plainVirsh(['start', '--domain', raced]); },
    }).catch((e: unknown) => e);
    expect((race as VirtNestedError).code).toBe('GUEST_NOT_SHUT_OFF');
  } finally {
    await plainVirsh(['destroy', '--domain', raced]);
  }
  expect(leftovers()).toEqual([]);
  expect(seen.map(({ mode, dirMode }) => [mode, dirMode])).toEqual([[0o600, 0o700], [0o600, 0o700]]);
  for (const { file } of seen) expect(file).toMatch(new RegExp(`^${backups}/\\.staging-${process.pid}-[0-9a-f]{16}\\.xml$`));
});

test('a backup directory that cannot be written is FILE_UNWRITABLE in one sentence, and nothing is defined', async () => {
  const name = await defineGuest('vn-apply-unwritable');
  const before = await definition(name);
  const notADirectory = await writeTemp(dir, `${name}-file`, 'a file, not a directory\n');
  const noBackup = await applyCpuMode(name, 'host-model', { session, backupDir: join(notADirectory, 'backups') }).catch((e: unknown) => e);
  expect([(noBackup as VirtNestedError).code, (noBackup as Error).message]).toEqual([
    'FILE_UNWRITABLE',
    `cannot write the backup of guest "${name}" in ${join(notADirectory, 'backups')} (ENOTDIR); nothing was changed: set VIRT_NESTED_BACKUP_DIR to a directory you can write`,
  ]);
  expect(await definition(name)).toBe(before);
});

test('a guest with a managed save image is refused: its next start would resume the old CPU', async () => {
  const name = await defineGuest('vn-apply-saved');
  const before = await definition(name);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  expect((await plainVirsh(['managedsave', '--domain', name])).exitCode).toBe(0);
  try {
    const error = await applyCpuMode(name, 'host-model', { session, backupDir: backups }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestNotShutOffError);
    expect([(error as GuestNotShutOffError).reason, (error as GuestNotShutOffError).state]).toEqual(['managed-save', 'shut off']);
    expect((error as Error).message).toBe(`guest "${name}" has a managed save image: its next start resumes the saved memory with the old CPU; discard it (virsh -c qemu:///system managedsave-remove --domain ${name}, which loses that memory state) or start and shut down the guest, then run set-cpu again`);
    expect(await definition(name)).toBe(before);
    expect(() => readdirSync(backups)).not.toThrow();
    expect(readdirSync(backups)).toEqual([]);
  } finally {
    await plainVirsh(['managedsave-remove', '--domain', name]);
  }
});

test.each([
  ['a trailing space', (id: string) => `vn-apply-space-${id} `],
  ['244 ASCII characters', (id: string) => `vn-apply-long-${id}-`.padEnd(244, 'x')],
  ['30 CJK characters', (id: string) => `${id}`.padEnd(30, '虚')],
  ['quotes and a leading dash', (id: string) => `-it's "quoted" ${id}`],
])('a guest name with %s is used exactly as given, and its backup gets a name the file system takes', async (_what, makeName) => {
  const name = makeName(uniqueName('').slice(1));
  guests.add(name);
  const xml = tcgGuestXml(name).replace('</os>\n', `</os>\n  ${STARTABLE_CPU}\n`);
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, 'named.xml', xml)])).exitCode).toBe(0);
  const result = await applyCpuMode(name, 'host-model', { session, backupDir: backups });
  expect(result).toMatchObject({ guest: name, changed: true });
  // the lifecycle events of exactly this guest were watched
  expect(result.warnings.filter((w) => w.code === 'lifecycle-events-unavailable')).toEqual([]);
  expect(await definition(name)).toContain("<cpu mode='host-model' check='partial'/>");
  const file = (result.backup as string).slice(backups.length + 1);
  expect(Buffer.byteLength(file)).toBeLessThan(255);
  const metadata = JSON.parse(readFileSync((result.backup as string).replace(/\.xml$/, '.json'), 'utf8'));
  expect(metadata.guest).toBe(name);
});

test('a backup whose metadata cannot be updated after the define: the change stands, with a warning that restore will ask for --force', async () => {
  const name = await defineGuest('vn-apply-meta');
  const result = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, {
    // the metadata written beside the backup turns into a directory: recording what was defined fails
    beforeDefine: async () => {
      const json = readdirSync(backups).find((f) => f.endsWith('.json')) as string;
      rmSync(join(backups, json));
      mkdirSync(join(backups, json));
    },
  });
  expect(result.changed).toBe(true);
  expect(result.warnings.filter((w) => w.code === 'backup-metadata-unwritten')).toEqual([
    { code: 'backup-metadata-unwritten', message: `could not record in ${result.backup}'s metadata what virt-nested defined; restore will ask for --force` },
  ]);
  expect(await definition(name)).toContain("<cpu mode='host-model' check='partial'/>");
});
