/**
 * Issue 14 on real kernels: `check-host` judges the running kernel against CVE-2026-53359 and CVE-2026-46113
 * (fixed upstream in 6.1.177). The pinned vulnerable kernel (Debian 6.1.0-47, upstream 6.1.170) boots in a
 * VM of its own; the main kernel's verdict comes from the main boot (real-kernel.test.ts runs it too, and
 * each test file boots only its own kernel).
 */
import { expectReloaded, runScenarios, vmFile, vmKernel, vmStep, SCENARIOS_TIMEOUT_MS, type VmRun } from './boot-vm.js';

const kernel = vmKernel('vulnerable');
let run: VmRun;

beforeAll(async () => { run = await runScenarios('vulnerable'); }, SCENARIOS_TIMEOUT_MS.vulnerable);

interface Report { ok: boolean; checks: Array<{ id: string; status: string; message: string; fix?: string }> }
const report = (name: string) => JSON.parse(vmStep(run, name).stdout) as Report;
const advisory = (r: Report) => r.checks.find((c) => c.id === 'kernel-advisory');

test(`the VM ran the pinned kernel without the fixes (${kernel.abi}, upstream ${kernel.upstream})`, () => {
  expect(vmFile(run, 'uname')).toBe(`${kernel.abi}\n`);
});

test('nested on: check-host calls the kernel a problem, names both CVEs and the way out, exit 1', () => {
  const s = vmStep(run, 'advisory-check-host');
  expect(s.nested).toBe('1');
  const r = report('advisory-check-host');
  expect(advisory(r)).toMatchObject({ status: 'problem' });
  expect(advisory(r)?.message).toContain('CVE-2026-53359');
  expect(advisory(r)?.message).toContain('CVE-2026-46113');
  expect(advisory(r)?.fix).toContain('virt-nested disable-host');
  expect(r.ok).toBe(false);
  expect(s.exit).toBe(1);
});

test('enable-host refuses on that kernel: exit 1, nothing written to /etc/modprobe.d', () => {
  const s = vmStep(run, 'advisory-enable-host');
  expect(s.exit).toBe(1);
  expect(s.modprobeD).toBe('');
  expect(s.nested).toBe('1');
});

test('disable-host --reload: exit 0, the kernel reads nested=0, modprobe -c resolves nested=0', () => {
  expectReloaded(vmStep(run, 'advisory-disable-host'), '0');
});

test('nested off: the vulnerable kernel is no longer a problem, and check-host says so', () => {
  const s = vmStep(run, 'advisory-check-host-off');
  expect(s.nested).toBe('0');
  const check = advisory(report('advisory-check-host-off'));
  expect(check).toBeDefined();
  expect(check?.status).not.toBe('problem');
  expect(check?.message).toContain('CVE-2026-53359');
});
