/**
 * A define that does not finish (its virsh killed, its timeout passed) is not libvirt refusing the
 * definition: it keeps its own code and exits 2, where a refusal is DEFINE_FAILED and exits 1.
 */
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyCpuMode, applyCpuModeWithHooks, type VirshCommands } from '../../src/apply/apply-cpu-mode.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { VirshError, VirtNestedError } from '../../src/errors.js';
import { openVirsh, type VirshSession } from '../../src/virsh/session.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = new Set<string>();
let dir: string;

beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => {
  await removeGuests(guests);
  await removeDir(dir);
});

async function defineGuest(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  guests.add(name);
  const xml = tcgGuestXml(name).replace('</os>\n', "</os>\n  <cpu mode='custom' match='exact' check='partial'>\n    <model fallback='allow'>qemu64</model>\n  </cpu>\n");
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, xml)])).exitCode).toBe(0);
  return name;
}

const definition = async (name: string) => (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout;

/** The session's commands, with `define` replaced. */
const withDefine = (session: VirshSession, define: VirshCommands['define']): VirshCommands => ({
  get uri() { return session.uri; },
  run: session.run,
  dumpxml: session.dumpxml,
  domcapabilities: session.domcapabilities,
  define,
});

test('virsh killed before define: the connection is lost, not DEFINE_FAILED, exit 2, and nothing is defined', async () => {
  const name = await defineGuest('vn-define-lost');
  const before = await definition(name);
  const pidFile = join(dir, 'virsh.pid');
  const virshPath = await writeTemp(dir, 'pid-virsh', '#!/bin/sh\necho "$$" > "$VN_PID_FILE"\nexec virsh "$@"\n');
  await chmod(virshPath, 0o755);
  const session = await openVirsh({ uri: 'qemu:///system', virshPath, env: { VN_PID_FILE: pidFile } });
  try {
    const pid = Number(await readFile(pidFile, 'utf8'));
    const commands = withDefine(session, async (file, options) => {
      // SIGKILL: the process reads nothing more, so the define below never reaches libvirt
      process.kill(pid, 'SIGKILL');
      return session.define(file, options);
    });
    const error = await applyCpuMode(name, 'host-model', { session: commands, backupDir: join(dir, 'backups-lost') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VirtNestedError);
    const { code, message, cause } = error as VirtNestedError;
    expect(code).not.toBe('DEFINE_FAILED');
    expect(code).toBe((cause as VirtNestedError).code);
    expect(cause).toBeInstanceOf(VirshError);
    expect((cause as VirshError).sessionEnded).toBe(true);
    expect(exitCodeFor(error)).toBe(2);
    expect(message).toMatch(new RegExp(`^the define of guest "${name}" did not finish \\(.+\\); libvirt may or may not have taken the new definition: compare it with the definition before, in ${dir}/backups-lost/.+\\.xml$`));
    expect(await definition(name)).toBe(before);
  } finally {
    await session.close().catch(() => undefined);
  }
});

test('a define past its timeout is VIRSH_TIMEOUT, exit 2; a define libvirt refuses is DEFINE_FAILED, exit 1', async () => {
  const name = await defineGuest('vn-define-timeout');
  const session = await openVirsh({ uri: 'qemu:///system' });
  try {
    // a define with --validate takes libvirtd far longer than 1 ms
    const commands = withDefine(session, (file, options) => session.define(file, { ...options, timeoutMs: 1 }));
    const error = await applyCpuMode(name, 'host-model', { session: commands, backupDir: join(dir, 'backups-timeout') }).catch((e: unknown) => e);
    expect([(error as VirtNestedError).code, exitCodeFor(error)]).toEqual(['VIRSH_TIMEOUT', 2]);
  } finally {
    await session.close().catch(() => undefined);
  }
  const refused = await defineGuest('vn-define-refused');
  const before = await definition(refused);
  await openVirsh({ uri: 'qemu:///system' }).then(async (fresh) => {
    try {
      const error = await applyCpuModeWithHooks(refused, 'host-model', { session: fresh, backupDir: join(dir, 'backups-refused') }, {
        transform: (xml) => xml.replace("<memory unit='KiB'>", "<memory unit='bogus'>"),
      }).catch((e: unknown) => e);
      expect([(error as VirtNestedError).code, exitCodeFor(error)]).toEqual(['DEFINE_FAILED', 1]);
    } finally {
      await fresh.close();
    }
  });
  expect(await definition(refused)).toBe(before);
});
