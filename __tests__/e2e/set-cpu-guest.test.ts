import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, hasNoStack, runCli } from './run-cli.js';
import { qomGet } from './qom.js';
import { schemaErrors } from '../helpers/json-schema.js';
import { domid } from '../apply/fleet-guests.js';
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

async function defineGuest(name: string, xml = tcgGuestXml(name)): Promise<void> {
  guests.add(name);
  const r = await plainVirsh(['define', '--file', await writeTemp(dir, 'guest.xml', xml)]);
  expect(r.exitCode).toBe(0);
}
const withCpu = (name: string, cpu: string, type = 'qemu') => tcgGuestXml(name).replace("<domain type='qemu'>", `<domain type='${type}'>`).replace('</os>\n', `</os>\n  ${cpu}\n`);
const state = async (name: string) => (await plainVirsh(['domstate', '--domain', name])).stdout.trim();
/** Starts a guest and gives back its domain id (kept until it is stopped). */
async function start(name: string): Promise<string> {
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  return domid(name);
}
/** The --json document of a run, checked against schemas/set-cpu.schema.json. */
function document(stdout: string): Record<string, unknown> {
  const parsed = JSON.parse(stdout) as Record<string, unknown>;
  expect(schemaErrors('set-cpu', parsed)).toEqual([]);
  return parsed;
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

test('--json prints the typed result of one guest, with schemaVersion and coded warnings', async () => {
  const name = uniqueName('vn-cli-json');
  await defineGuest(name);
  const r = runCli(['set-cpu', name, '--dry-run', '--json'], { env: env() });
  expect(r.code).toBe(0);
  expect(document(r.stdout)).toEqual({
    schemaVersion: 1, guest: name, uri: 'qemu:///system', mode: 'host-model', changed: true, dryRun: true, backup: null, shutdown: false, restarted: false,
    before: { mode: 'custom', check: 'none', match: 'exact', model: { name: 'qemu64', fallback: 'forbid' }, features: [] },
    after: { mode: 'host-model', check: 'partial', features: [] },
    warnings: [
      { code: 'driver-not-kvm', message: `guest "${name}" has domain type 'qemu', not 'kvm': the guest's hypervisors will run without hardware acceleration` },
      { code: 'nested-guests-block-save', message: 'while the guest runs nested guests it cannot be saved or live-migrated; stop them first' },
    ],
  });
});

test('--diff prints the unified diff of the definition, as virt-xml --print-diff, with --dry-run and without', async () => {
  const name = uniqueName('vn-cli-diff');
  await defineGuest(name);
  const before = await definition(name);
  const diff = [
    '--- Original XML', '+++ Altered XML', '@@ -8,9 +8,7 @@',
    "     <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>", "     <boot dev='hd'/>", '   </os>',
    "-  <cpu mode='custom' match='exact' check='none'>", "-    <model fallback='forbid'>qemu64</model>", '-  </cpu>',
    "+  <cpu mode='host-model' check='partial'/>",
    "   <clock offset='utc'/>", '   <on_poweroff>destroy</on_poweroff>', '   <on_reboot>restart</on_reboot>', '',
  ].join('\n');
  const dry = runCli(['set-cpu', name, '--dry-run', '--diff'], { env: env() });
  expect([dry.code, dry.stdout]).toEqual([0, `guest "${name}": would set <cpu> to mode='host-model' check='partial' (now mode='custom' check='none'); dry run, nothing changed\n${diff}`]);
  expect(await definition(name)).toBe(before);
  const real = runCli(['set-cpu', name, '--diff', '--json'], { env: env() });
  expect(real.code).toBe(0);
  expect(document(real.stdout)['diff']).toBe(diff);
  expect(await definition(name)).toContain("<cpu mode='host-model' check='partial'/>");
  // nothing left to change: an empty diff
  const again = runCli(['set-cpu', name, '--diff'], { env: env() });
  expect(again).toEqual({ code: 0, stdout: `guest "${name}": already mode='host-model' check='partial'; nothing to do\n`, stderr: expect.any(String) });
});

test('--nested off and on, on a real running TCG guest, as QEMU reports them (qom-get)', async () => {
  const name = uniqueName('vn-cli-nested');
  await defineGuest(name, withCpu(name, "<cpu mode='host-model' check='partial'/>"));
  const off = runCli(['set-cpu', name, '--nested', 'off'], { env: env() });
  expect(off.code).toBe(0);
  expect(off.stdout).toMatch(new RegExp(`^guest "${name}": <cpu> set to mode='host-model' check='partial' with vmx and svm disabled \\(was mode='host-model' check='partial'\\)\\n`));
  expect(await definition(name)).toContain("  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='vmx'/>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n");
  await start(name);
  try {
    expect(await qomGet(name, 'svm')).toBe(false);
    expect(await qomGet(name, 'vmx')).toBe(false);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
  const on = runCli(['set-cpu', name, '--nested', 'on', '--json'], { env: env() });
  expect(on.code).toBe(0);
  // this host's host-model CPU does not list svm as required: 'on' requires it
  expect(document(on.stdout)).toMatchObject({ changed: true, after: { mode: 'host-model', check: 'partial', features: [{ name: 'svm', policy: 'require' }] } });
  expect(await definition(name)).toContain("  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='svm'/>\n  </cpu>\n");
  await start(name);
  try {
    expect(await qomGet(name, 'svm')).toBe(true);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('--shutdown leaves a running guest that already has what is asked alone: nothing to do, exit 0', async () => {
  const name = uniqueName('vn-cli-done');
  await defineGuest(name, withCpu(name, "<cpu mode='host-model' check='partial'/>"));
  const id = await start(name);
  try {
    for (const args of [[], ['--shutdown'], ['--shutdown', '--dry-run']]) {
      const r = runCli(['set-cpu', name, ...args], { env: env() });
      expect([r.code, r.stdout]).toEqual([0, `guest "${name}": already mode='host-model' check='partial'; nothing to do\n`]);
    }
    expect([await state(name), await domid(name)]).toEqual(['running', id]);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('--shutdown refuses a mode the host cannot run before it touches the running guest', async () => {
  const name = uniqueName('vn-cli-pt-running');
  await defineGuest(name);
  const before = await definition(name);
  const id = await start(name);
  try {
    const r = runCli(['set-cpu', name, '--mode', 'host-passthrough', '--shutdown'], { env: { ...env(), VIRT_NESTED_SHUTDOWN_TIMEOUT: '1' } });
    expect(r).toEqual({ code: 1, stdout: '', stderr: `virt-nested: host-passthrough is not supported for guest "${name}" (qemu x86_64 pc-i440fx-7.2) according to libvirt's domcapabilities at qemu:///system; nothing was changed\n` });
    expect([await state(name), await domid(name), await definition(name)]).toEqual(['running', id, before]);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('--dry-run --shutdown prints the plan the real run would carry out, exits as it would, and touches nothing', async () => {
  const name = uniqueName('vn-cli-plan');
  await defineGuest(name);
  const before = await definition(name);
  const id = await start(name);
  try {
    const r = runCli(['set-cpu', name, '--shutdown', '--dry-run'], { env: env() });
    expect([r.code, r.stdout]).toEqual([0, `guest "${name}": would shut it down, set <cpu> to mode='host-model' check='partial' (now mode='custom' check='none'), and start it again; dry run, nothing changed\n`]);
    const json = runCli(['set-cpu', name, '--shutdown', '--dry-run', '--json'], { env: env() });
    expect(json.code).toBe(0);
    expect(document(json.stdout)).toMatchObject({ changed: true, dryRun: true, shutdown: true, restarted: false, backup: null });
    expect([await state(name), await domid(name), await definition(name)]).toEqual(['running', id, before]);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('host-passthrough to host-model drops migratable, which libvirt refuses for host-model (a KVM guest, only defined)', async () => {
  const name = uniqueName('vn-cli-migratable');
  await defineGuest(name, withCpu(name, "<cpu mode='host-passthrough' check='none' migratable='on'/>", 'kvm'));
  expect(await definition(name)).toContain("<cpu mode='host-passthrough' check='none' migratable='on'/>");
  const r = runCli(['set-cpu', name, '--mode', 'host-model'], { env: env() });
  expect(r.stderr).toBe('warning: while the guest runs nested guests it cannot be saved or live-migrated; stop them first\n');
  expect(r.code).toBe(0);
  expect(await definition(name)).toContain("<cpu mode='host-model' check='partial'/>");
  // --nested off alone keeps the guest's own mode
  const back = runCli(['set-cpu', name, '--mode', 'host-passthrough'], { env: env() });
  expect(back.code).toBe(0);
  const off = runCli(['set-cpu', name, '--nested', 'off', '--json'], { env: env() });
  expect(document(off.stdout)).toMatchObject({ mode: 'host-passthrough', changed: true, after: { mode: 'host-passthrough', features: [{ name: 'vmx', policy: 'disable' }, { name: 'svm', policy: 'disable' }] } });
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

test('a missing guest alone is exit 2; among others it is one failed guest (exit 1); --debug adds its stack', async () => {
  const name = uniqueName('vn-cli-present');
  await defineGuest(name);
  const json = runCli(['set-cpu', 'vn-no-such-guest', '--json'], { env: env() });
  expect(json.code).toBe(2);
  expect(document(json.stdout)).toMatchObject({ guest: 'vn-no-such-guest', changed: false, error: { code: 'GUEST_NOT_FOUND', message: 'guest "vn-no-such-guest" was not found at qemu:///system' } });
  const fleet = runCli(['set-cpu', 'vn-no-such-guest', name, '--json'], { env: env() });
  expect(fleet.code).toBe(1);
  expect(document(fleet.stdout)['summary']).toEqual({ hosts: 1, unreachable: [], guests: 2, changed: 1, unchanged: 0, skipped: 0, failed: 1, aborted: false });
  const debug = runCli(['set-cpu', 'vn-no-such-guest', '--debug'], { env: env() });
  expect(debug.code).toBe(2);
  expect(debug.stderr.startsWith('VirshError: guest "vn-no-such-guest" was not found at qemu:///system\n    at ')).toBe(true);
  expect(debug.stderr.endsWith('virt-nested: guest "vn-no-such-guest" was not found at qemu:///system\n')).toBe(true);
});

test.each([
  ['[]]', "virt-nested: --match '[]]' selects no guest on the host it reached\n"],
  ['[[:alpha:]]', "virt-nested: --match '[[:alpha:]]' selects no guest on the host it reached\n"],
  ['[z-a]', "virt-nested: --match '[z-a]' is not a valid glob: the range z-a is reversed, so it matches nothing; write it low-high\n"],
  ['vn-[0-', "virt-nested: --match 'vn-[0-' is not a valid glob: a [ is not closed by ]; quote a literal [ as \\[\n"],
])('--match %s: exit 2 naming the pattern, never "host unreachable"', (glob, stderr) => {
  expect(runCli(['set-cpu', '--match', glob, '-c', 'qemu:///system'], { env: env() })).toEqual({ code: 2, stdout: '', stderr });
  const json = runCli(['set-cpu', '--match', glob, '--json'], { env: env() });
  expect(json.code).toBe(2);
  expect(document(json.stdout)).toEqual({ schemaVersion: 1, error: { code: 'USAGE', message: stderr.replace(/^virt-nested: /, '').replace(/\n$/, '') } });
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

test('usage errors exit 2, in the one-sentence form of every error', () => {
  expect(runCli(['set-cpu', '--mode', 'host-model'], { env: env() })).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: name the guests, or use --all or --match GLOB\n' });
  expect(runCli(['set-cpu', 'x', '--mode', 'host-model', '--write'], { env: env() })).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: --write works only with --file PATH\n' });
  expect(runCli(['set-cpu', 'x', '--nested', 'maybe'], { env: env() })).toEqual({
    code: 2, stdout: '', stderr: "virt-nested: option '--nested <on|off>' argument 'maybe' is invalid. Allowed choices are on, off; run with --help for usage\n",
  });
  expect(runCli(['set-cpu', 'x', '--json', '--json-lines'], { env: env() })).toEqual({ code: 2, stdout: '', stderr: 'virt-nested: --json and --json-lines cannot be combined; pick one\n' });
  expect(runCli(['set-cpu', 'x', '--no-such-flag'], { env: env() })).toEqual({ code: 2, stdout: '', stderr: "virt-nested: unknown option '--no-such-flag'; run with --help for usage\n" });
});

test('-v, -V and --version print the version', () => {
  for (const flag of ['-v', '-V', '--version']) expect(runCli([flag])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
});

test("docs/examples/ansible-set-cpu.yml: its command, run as Ansible runs it, is changed once, then not, and never fails", async () => {
  const playbook = readFileSync(join(ROOT, 'docs/examples/ansible-set-cpu.yml'), 'utf8');
  const command = /ansible\.builtin\.command: virt-nested (.+)\n/.exec(playbook)?.[1]?.split(' ') ?? [];
  expect(playbook).toContain('changed_when: (cpu.stdout | from_json).changed\n');
  expect(playbook).toContain('failed_when: cpu.rc != 0\n');
  const name = uniqueName('vn-cli-ansible');
  await defineGuest(name);
  const args = command.map((word) => (word === 'web-1' ? name : word));
  expect(args).toEqual(['set-cpu', name, '--shutdown', '--json']);
  const first = runCli(args, { env: env() });
  expect([first.code, document(first.stdout)['changed']]).toEqual([0, true]);
  const second = runCli(args, { env: env() });
  expect([second.code, document(second.stdout)['changed']]).toEqual([0, false]);
});

test("--nested on requires the host's flag where libvirt's host-model CPU disables it (a KVM guest, only defined)", async () => {
  const caps = (await plainVirsh(['domcapabilities', '--virttype', 'kvm', '--arch', 'x86_64', '--machine', 'pc'])).stdout;
  const hostModel = /<mode name='host-model' supported='yes'>([^]*?)<\/mode>/.exec(caps)?.[1] ?? '';
  const vendor = /<vendor>(\w+)<\/vendor>/.exec(hostModel)?.[1];
  const flag = vendor === 'Intel' ? 'vmx' : 'svm';
  const disabled = new RegExp(`<feature policy='(disable|forbid)' name='${flag}'/>`).test(hostModel);
  const name = uniqueName('vn-cli-require');
  await defineGuest(name, withCpu(name, `<cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='${flag}'/>\n  </cpu>`, 'kvm'));
  const r = runCli(['set-cpu', name, '--nested', 'on', '--json'], { env: env() });
  expect(r.code).toBe(0);
  const expected = disabled ? [{ name: flag, policy: 'require' }] : [];
  expect(document(r.stdout)).toMatchObject({ changed: true, after: { mode: 'host-model', check: 'partial', features: expected } });
  expect(await definition(name)).toContain(disabled
    ? `  <cpu mode='host-model' check='partial'>\n    <feature policy='require' name='${flag}'/>\n  </cpu>\n`
    : "  <cpu mode='host-model' check='partial'/>\n");
});
