import { hasNoStack, runCli } from './run-cli.js';
import { qomGet } from './qom.js';
import { schemaErrors } from '../helpers/json-schema.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = new Set<string>();
let dir: string;
beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => {
  await removeGuests(guests);
  await removeDir(dir);
});

const HOST_MODEL = "<cpu mode='host-model' check='partial'/>";
const SVM_DISABLED = "<cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='svm'/>\n  </cpu>";

async function defineGuest(prefix: string, cpu: string): Promise<string> {
  const name = uniqueName(prefix);
  guests.add(name);
  const xml = tcgGuestXml(name).replace('</os>\n', `</os>\n  ${cpu}\n`);
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, xml)])).exitCode).toBe(0);
  return name;
}
const definitions = async (name: string) => [
  (await plainVirsh(['dumpxml', '--inactive', '--security-info', '--domain', name])).stdout,
  (await plainVirsh(['dumpxml', '--security-info', '--domain', name])).stdout,
];

test('a running host-model guest: the verdict is what qom-get says (svm), exit 0', async () => {
  const name = await defineGuest('vn-cg-ok', HOST_MODEL);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    const before = await definitions(name);
    const r = runCli(['check-guest', name, '-c', 'qemu:///system', '--json']);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schemaErrors('check-guest-running', report)).toEqual([]);
    expect(report['schemaVersion']).toBe(1);
    const svm = await qomGet(name, 'svm');
    const vmx = await qomGet(name, 'vmx');
    expect(svm || vmx).toBe(true);
    expect(report).toMatchObject({ ok: true, guest: name, uri: 'qemu:///system', vmx, svm, source: 'qmp', pendingRestart: false, definition: { mode: 'host-model', check: 'partial', disabled: [] } });
    expect(r.code).toBe(0);
    expect(await definitions(name)).toEqual(before);
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('svm disabled: not available, the explanation names the feature, exit 1; then a pending restart is said', async () => {
  const name = await defineGuest('vn-cg-off', SVM_DISABLED);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    expect(await qomGet(name, 'svm')).toBe(false);
    const r = runCli(['check-guest', name]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✗ QEMU reports neither vmx nor svm on the vCPU of guest "${name}", so it cannot run nested guests\n  fix: virt-nested set-cpu --mode host-model -c qemu:///system -- ${name}, then restart the guest\n`);
    expect(r.stdout).toContain(`✗ guest "${name}" has <feature policy='disable' name='svm'/>, which hides it from the guest\n`);
    expect(r.stdout.endsWith(`verdict: nested virtualization is not available in guest "${name}" (QEMU's answer)\n`)).toBe(true);
    // fix the persistent definition while it runs: what runs is now behind the definition
    const persistent = (await definitions(name))[0] as string;
    const clean = persistent.replace(/<cpu mode='host-model' check='partial'>\s*<feature policy='disable' name='svm'\/>\s*<\/cpu>/, "<cpu mode='host-model' check='partial'/>");
    expect(clean).not.toBe(persistent);
    expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}-fixed.xml`, clean)])).stderr).toBe('');
    // the restart that would give it svm is the way to the fix, not a failed check: no ✗
    const text = runCli(['check-guest', name]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`– the definition of guest "${name}" was changed since it started and would give it vmx/svm; restart it to apply\n`);
    expect(text.stdout).not.toContain('✗ the definition');
    const json = JSON.parse(runCli(['check-guest', name, '--json']).stdout) as { pendingRestart: boolean; ok: boolean; checks: Array<{ id: string; status: string }> };
    expect(schemaErrors('check-guest-running', json)).toEqual([]);
    expect(json.ok).toBe(false);
    expect(json.pendingRestart).toBe(true);
    expect(json.checks.find((c) => c.id === 'pending-restart')?.status).toBe('problem');
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('a shut-off guest: exit 1, "not running", and what its definition predicts', async () => {
  const name = await defineGuest('vn-cg-shutoff', HOST_MODEL);
  const r = runCli(['check-guest', name]);
  expect(r).toEqual({
    code: 1,
    stdout: `✗ guest "${name}" is not running (shut off); start it to check what its vCPU gets (its definition gives it vmx/svm)\n  fix: virsh -c qemu:///system start --domain ${name}\nverdict: guest "${name}" is not running, so QEMU cannot be asked\n`,
    stderr: '',
  });
});

test('a missing guest and an unreachable URI: exit 2, one sentence; with --json also one document', () => {
  const notFound = 'guest "vn-no-such-guest" was not found at qemu:///system';
  expect(runCli(['check-guest', 'vn-no-such-guest'])).toEqual({ code: 2, stdout: '', stderr: `virt-nested: ${notFound}\n` });
  const missingJson = runCli(['check-guest', 'vn-no-such-guest', '--json']);
  expect(missingJson.code).toBe(2);
  expect(JSON.parse(missingJson.stdout)).toEqual({ schemaVersion: 1, guest: 'vn-no-such-guest', uri: 'qemu:///system', ok: false, error: { code: 'GUEST_NOT_FOUND', message: notFound } });
  expect(schemaErrors('check-guest-running', JSON.parse(missingJson.stdout))).toEqual([]);
  const debug = runCli(['check-guest', 'vn-no-such-guest', '--debug']);
  expect(debug.code).toBe(2);
  expect(debug.stderr.startsWith(`VirshError: ${notFound}\n    at `)).toBe(true);
  expect(debug.stderr.endsWith(`virt-nested: ${notFound}\n`)).toBe(true);
  const refused = "cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system: unable to connect to server at '127.0.0.1:1': Connection refused";
  const down = runCli(['check-guest', 'x', '-c', 'qemu+tcp://127.0.0.1:1/system']);
  expect(down).toEqual({ code: 2, stdout: '', stderr: `virt-nested: ${refused}\n` });
  expect(hasNoStack(down)).toBe(true);
  const downJson = runCli(['check-guest', 'x', '-c', 'qemu+tcp://127.0.0.1:1/system', '--json']);
  expect(downJson.code).toBe(2);
  expect(JSON.parse(downJson.stdout)).toEqual({ schemaVersion: 1, error: { code: 'LIBVIRT_UNREACHABLE', message: refused } });
  expect(schemaErrors('check-guest-running', JSON.parse(downJson.stdout))).toEqual([]);
});

test.each([
  ['[z-a]', "virt-nested: --match '[z-a]' is not a valid glob: the range z-a is reversed, so it matches nothing; write it low-high\n"],
  ['vn-none-such-*', "virt-nested: --match 'vn-none-such-*' selects no guest on the host it reached\n"],
])('--match %s: exit 2 naming the pattern, never the host', (glob, stderr) => {
  expect(runCli(['check-guest', '--match', glob, '-c', 'qemu:///system'])).toEqual({ code: 2, stdout: '', stderr });
});

test("libvirt's test driver has no QMP: the answer is the live definition's, and says so", () => {
  const r = runCli(['check-guest', 'test', '-c', 'test:///default', '--json']);
  const report = JSON.parse(r.stdout) as { source: string; vmx: unknown; checks: Array<{ id: string; message: string }> };
  expect(r.code).toBe(1);
  expect(report.source).toBe('definition');
  expect(report.vmx).toBeNull();
  expect(report.checks.find((c) => c.id === 'vcpu-flag')?.message).toBe("libvirt at test:///default has no QEMU monitor, so this answer is the live definition's, not QEMU's: it does not give guest \"test\" vmx/svm");
});

test('--all over two hosts: --json prints one document (results and summary), --json-lines one report a line and the summary', () => {
  const args = ['check-guest', '--all', '-c', 'test:///default', '-c', 'qemu+tcp://127.0.0.1:1/system'];
  const summary = { hosts: 2, unreachable: [{ uri: 'qemu+tcp://127.0.0.1:1/system', code: 'LIBVIRT_UNREACHABLE', message: expect.stringContaining('127.0.0.1:1') }], guests: 1, ok: 0, notOk: 1, failed: 0 };
  const r = runCli([...args, '--json']);
  const document = JSON.parse(r.stdout) as { schemaVersion: number; results: unknown[]; summary: unknown };
  expect(schemaErrors('check-guest-running', document)).toEqual([]);
  expect(Object.keys(document)).toEqual(['schemaVersion', 'results', 'summary']);
  expect(document.results).toHaveLength(1);
  expect(document.results[0]).toMatchObject({ guest: 'test', uri: 'test:///default', ok: false });
  expect(document.summary).toEqual(summary);
  expect(r.code).toBe(1);
  const streamed = runCli([...args, '--json-lines']);
  const lines = streamed.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const line of lines) expect(schemaErrors('check-guest-running-lines', line)).toEqual([]);
  expect(lines).toEqual([document.results[0], { summary }]);
  expect(streamed.code).toBe(1);
});

test("a guest with the default custom CPU that QEMU gives svm: available, no false 'pending restart'", async () => {
  const name = uniqueName('vn-cg-default');
  guests.add(name);
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, tcgGuestXml(name))])).exitCode).toBe(0);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    const svm = await qomGet(name, 'svm');
    const report = JSON.parse(runCli(['check-guest', name, '--json']).stdout) as { ok: boolean; pendingRestart: boolean; checks: Array<{ id: string; status: string }> };
    expect(report.ok).toBe(svm);
    expect(report.pendingRestart).toBe(false);
    expect(report.checks.find((c) => c.id === 'pending-restart')?.status).toBe('ok');
    expect(report.checks.find((c) => c.id === 'cpu-mode')?.status).toBe(svm ? 'not-applicable' : 'problem');
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});

test('a paused guest is still asked: QEMU answers for it', async () => {
  const name = await defineGuest('vn-cg-paused', HOST_MODEL);
  expect((await plainVirsh(['start', '--domain', name])).exitCode).toBe(0);
  try {
    expect((await plainVirsh(['suspend', '--domain', name])).exitCode).toBe(0);
    const svm = await qomGet(name, 'svm');
    const report = JSON.parse(runCli(['check-guest', name, '--json']).stdout) as { ok: boolean; source: string; svm: boolean; checks: Array<{ id: string; status: string; message: string }> };
    expect([report.source, report.svm, report.ok]).toEqual(['qmp', svm, svm]);
    expect(report.checks[0]).toEqual({ id: 'running', status: 'ok', message: `guest "${name}" is paused` });
  } finally {
    await plainVirsh(['destroy', '--domain', name]);
  }
});
