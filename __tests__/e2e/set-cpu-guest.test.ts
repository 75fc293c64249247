import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasNoStack, runCli } from './run-cli.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = new Set<string>();
let dir: string;
let backups: string;
beforeAll(async () => { dir = await makeTempDir(); backups = mkdtempSync(join(tmpdir(), 'vn-cli-backups-')); });
afterAll(async () => {
  await removeGuests(guests);
  await removeDir(dir);
  rmSync(backups, { recursive: true, force: true });
});

const env = () => ({ VIRT_NESTED_BACKUP_DIR: backups, LIBVIRT_DEFAULT_URI: 'qemu:///system' });

async function defineGuest(name: string): Promise<void> {
  guests.add(name);
  const r = await plainVirsh(['define', '--file', await writeTemp(dir, 'guest.xml', tcgGuestXml(name))]);
  expect(r.exitCode).toBe(0);
}
const definition = async (name: string) => (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout;

test.each([
  ['a leading dash, spaces and non-ASCII', '-vn odd name ü'],
  ['quotes', `it's "quoted"`],
])('a guest name with %s works, as argv, never a shell', async (_what, prefix) => {
  const name = uniqueName(prefix);
  await defineGuest(name);
  // a name that starts with '-' goes after '--', as for any command line
  const r = runCli(['set-cpu', '--mode', 'host-model', '--', name], { env: env() });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^guest "${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": <cpu> set to mode='host-model' check='partial' \\(was mode='custom' check='none'\\)\\n  backup of the old definition: ${backups}/.+\\.xml\\n$`));
  expect(await definition(name)).toContain("<cpu mode='host-model' check='partial'/>");
  // a second run: nothing to do, exit 0
  const again = runCli(['set-cpu', '--mode', 'host-model', '--', name], { env: env() });
  expect(again.code).toBe(0);
  expect(again.stdout).toBe(`guest "${name}": already mode='host-model' check='partial'; nothing to do\n`);
});

test('a running guest: exit 1, one sentence, definition unchanged', async () => {
  const name = uniqueName('vn-cli-running');
  await defineGuest(name);
  const before = await definition(name);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    const r = runCli(['set-cpu', name, '--mode', 'host-model', '-c', 'qemu:///system'], { env: env() });
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `virt-nested: guest "${name}" is running; not changed: shut it off first (virsh -c qemu:///system shutdown --domain ${name}), or use --shutdown\n`,
    });
    expect(await definition(name)).toBe(before);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('--json prints the typed result of one guest', async () => {
  const name = uniqueName('vn-cli-json');
  await defineGuest(name);
  const r = runCli(['set-cpu', name, '--mode', 'host-model', '--dry-run', '--json'], { env: env() });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({
    uri: 'qemu:///system', guest: name, mode: 'host-model', changed: true, dryRun: true, skipped: null, error: null, backup: null,
    before: { mode: 'custom', check: 'none' }, after: { mode: 'host-model', check: 'partial' },
  });
});

test('host-passthrough on a TCG guest is refused by domcapabilities (exit 1), with --dry-run too', async () => {
  const tcg = uniqueName('vn-cli-pt');
  await defineGuest(tcg);
  const before = await definition(tcg);
  const message = `virt-nested: host-passthrough is not supported for guest "${tcg}" (qemu x86_64 pc-i440fx-7.2) according to libvirt's domcapabilities at qemu:///system; nothing was changed\n`;
  expect(runCli(['set-cpu', tcg, '--mode', 'host-passthrough'], { env: env() })).toEqual({ code: 1, stdout: '', stderr: message });
  expect(runCli(['set-cpu', tcg, '--mode', 'host-passthrough', '--dry-run'], { env: env() })).toEqual({ code: 1, stdout: '', stderr: message });
  expect(await definition(tcg)).toBe(before);
});

test('a missing guest, a refused URI and an unreachable libvirt: exit 2, one sentence, no stack', () => {
  const missing = runCli(['set-cpu', 'vn-no-such-guest', '--mode', 'host-model', '-c', 'qemu:///system'], { env: env() });
  expect(missing).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: guest "vn-no-such-guest" was not found at qemu:///system\n' });
  const refused = runCli(['set-cpu', 'x', '--mode', 'host-model', '-c', 'qemu+tcp://127.0.0.1:1/system'], { env: env() });
  expect(refused).toEqual({ code: 2, stdout: '', stderr: "virt-nested: cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system: unable to connect to server at '127.0.0.1:1': Connection refused\n" });
  const down = runCli(['set-cpu', 'x', '--mode', 'host-model', '-c', 'qemu+unix:///system?socket=/nonexistent'], { env: env() });
  expect(down.code).toBe(2);
  expect(down.stderr).toMatch(/^virt-nested: cannot connect to libvirt at qemu\+unix:\/\/\/system\?socket=\/nonexistent: .+\n$/);
  for (const r of [missing, refused, down]) expect(hasNoStack(r)).toBe(true);
});

test('LIBVIRT_DEFAULT_URI is honoured when no -c is given', () => {
  const r = runCli(['set-cpu', 'x', '--mode', 'host-model'], { env: { ...env(), LIBVIRT_DEFAULT_URI: 'qemu+tcp://127.0.0.1:1/system' } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('qemu+tcp://127.0.0.1:1/system');
});

test('usage errors exit 2', () => {
  expect(runCli(['set-cpu', '--mode', 'host-model'], { env: env() })).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: name the guests, or use --all or --match GLOB\n' });
  expect(runCli(['set-cpu', 'x', '--mode', 'host-model', '--write'], { env: env() }).stderr).toBe('virt-nested: --write and --diff work only with --file PATH\n');
  expect(runCli(['set-cpu', 'x'], { env: env() }).code).toBe(2);
});
