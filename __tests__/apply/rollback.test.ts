/**
 * The rollback of virt-nested's own define (its read-back is not what was asked), when the rollback
 * itself cannot finish: each failure keeps its own code and names where the original definition is.
 * The unwanted define is made with the `transform` hook (check='none' instead of 'partial').
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCpuModeWithHooks } from '../../src/apply/apply-cpu-mode.js';
import { exitCodeForCode } from '../../src/cli/exit-codes.js';
import type { VirtNestedError } from '../../src/errors.js';
import { openVirsh, type VirshSession } from '../../src/virsh/session.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = new Set<string>();
let dir: string;
let scratch: string;
beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => {
  await removeGuests(guests);
  await removeDir(dir);
});
beforeEach(() => { scratch = mkdtempSync(join(tmpdir(), 'vn-rollback-')); });
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

async function defineGuest(): Promise<string> {
  const name = uniqueName('vn-rollback');
  guests.add(name);
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, tcgGuestXml(name))])).exitCode).toBe(0);
  return name;
}

const definition = async (name: string) => (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout;
const unwanted = { transform: (xml: string) => xml.replace("mode='host-model' check='partial'", "mode='host-model' check='none'") };

test('the original cannot be staged for the rollback: FILE_UNWRITABLE (exit 2), not "libvirt refused", and where the original is', async () => {
  const name = await defineGuest();
  const backups = join(scratch, 'backups');
  const error = await applyCpuModeWithHooks(name, 'host-model', { session: await openVirsh({ uri: 'qemu:///system' }).then((s) => { opened.push(s); return s; }), backupDir: backups }, {
    ...unwanted,
    // the backup directory turns into a file: the staged copy of the original has nowhere to go
    beforeRollback: async () => { renameSync(backups, join(scratch, 'moved')); writeFileSync(backups, ''); },
  }).then(() => { throw new Error('expected the rollback to fail'); }, (e: unknown) => e as VirtNestedError);
  const backup = /its original definition is in (\S+\.xml):/.exec(error.message)?.[1] as string;
  expect([error.code, exitCodeForCode(error.code)]).toEqual(['FILE_UNWRITABLE', 2]);
  expect(error.message).toBe(`after define, guest "${name}" has cpu mode='host-model' check='none', not mode='host-model' check='partial', and restoring guest "${name}" failed: its original definition could not be written to a file in ${backups} (ENOTDIR); its original definition is in ${backup}: virsh -c qemu:///system define --file ${backup}`);
  expect(backup.startsWith(`${backups}/`)).toBe(true);
  // nothing lost: our define stays (not half undone) and the original is in the backup, moved with its directory
  expect(await definition(name)).toContain("<cpu mode='host-model' check='none'/>");
}, 60_000);

test('virsh gone before the rollback: its own code (exit 2), never DEFINE_FAILED, and where the original is', async () => {
  const name = await defineGuest();
  const backups = join(scratch, 'backups');
  const session = await openVirsh({ uri: 'qemu:///system' });
  opened.push(session);
  const error = await applyCpuModeWithHooks(name, 'host-model', { session, backupDir: backups }, {
    ...unwanted,
    beforeRollback: async () => { process.kill(session.pid as number, 'SIGKILL'); await new Promise((r) => setTimeout(r, 200)); },
  }).then(() => { throw new Error('expected the rollback to fail'); }, (e: unknown) => e as VirtNestedError);
  // a killed virsh is the session's failure (VIRSH_FAILED, exit 2), never libvirt refusing the original
  expect([error.code, exitCodeForCode(error.code)]).toEqual(['VIRSH_FAILED', 2]);
  expect(error.message).toMatch(new RegExp(`^after define, guest "${name}" has cpu mode='host-model' check='none', not mode='host-model' check='partial', and restoring guest "${name}" failed: its definition could not be read again \\(.+\\); its original definition is in ${backups}/.+\\.xml: virsh -c qemu:///system define --file ${backups}/.+\\.xml$`));
  expect(await definition(name)).toContain("<cpu mode='host-model' check='none'/>");
}, 60_000);

const opened: VirshSession[] = [];
afterAll(async () => { await Promise.all(opened.map((s) => s.close())); });
