/**
 * The kernel-advisory verdicts: each branch boundary of the Januscape table, judged from what a
 * vanilla, a Debian and an Ubuntu kernel say about themselves, on fixture roots through checkHost.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHost } from '../../src/host/index.js';
import { KERNEL_ADVISORIES } from '../../src/host/kernel-advisories.js';
import { judgeKernel, kernelVersion } from '../../src/host/kernel-advisory.js';
import { copyFixture, fixtureRoot, recordingRunner, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

const CVES = 'CVE-2026-53359 and CVE-2026-46113 (Januscape)';
const IMPACT = "a guest allowed nested virtualization can escape to the host through use-after-frees in KVM/x86's shadow MMU";
const DEBIAN_GCC = '(gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40)';

async function advisoryOf(root: string) {
  const report = await checkHost({ root, run: recordingRunner() });
  return { ok: report.ok, check: report.checks.find((check) => check.id === 'kernel-advisory') };
}

/** A copy of a fixture whose kernel says `osrelease` and `version` about itself. */
async function kernelRoot(osrelease: string, version = `Linux version ${osrelease} (root@build) ${DEBIAN_GCC} #1 SMP PREEMPT_DYNAMIC Tue Jun 30 10:00:00 UTC 2026`, fixture = 'amd-nested-1') {
  const root = await copyFixture(fixture);
  await writeFile(join(root, 'proc/sys/kernel/osrelease'), `${osrelease}\n`);
  await writeFile(join(root, 'proc/version'), `${version}\n`);
  return root;
}

describe('the table', () => {
  test('names its CVEs, its date and its sources', () => {
    expect(KERNEL_ADVISORIES.map((a) => [a.name, a.cves, a.released, a.fixedIn])).toEqual([
      ['Januscape', ['CVE-2026-53359', 'CVE-2026-46113'], '2026-07-04', ['7.1.3', '6.18.38', '6.12.95', '6.6.144', '6.1.177', '5.15.211', '5.10.260']],
    ]);
    expect(KERNEL_ADVISORIES[0]?.sources.length).toBeGreaterThan(0);
  });
});

describe('each branch boundary, on a vanilla kernel with nested on', () => {
  // version below the fix → problem; the fix itself → ok
  const boundaries: Array<[string, string]> = [
    ['7.1.2', '7.1.3'],
    ['6.18.37', '6.18.38'],
    ['6.12.94', '6.12.95'],
    ['6.6.143', '6.6.144'],
    ['6.1.176', '6.1.177'],
    ['5.15.210', '5.15.211'],
    ['5.10.259', '5.10.260'],
  ];
  test.each(boundaries)('%s lacks the fix, %s has it', async (below, fixed) => {
    const vulnerable = await advisoryOf(await kernelRoot(below));
    expect(vulnerable).toEqual({
      ok: false,
      check: {
        id: 'kernel-advisory',
        status: 'problem',
        message: `the kernel ${below} lacks the fixes for ${CVES}, and nested virtualization is on: ${IMPACT}`,
        fix: `upgrade the kernel to ${fixed} or later and reboot, or turn nesting off until then: virt-nested disable-host --reload`,
      },
    });
    expect(await advisoryOf(await kernelRoot(fixed))).toEqual({
      ok: true,
      check: { id: 'kernel-advisory', status: 'ok', message: `the kernel ${fixed} has the fixes for ${CVES}` },
    });
  });

  test('a newer branch than any fixed one is fixed; a branch in between or older, at its end of life, never got it', async () => {
    expect(judgeKernel({ osrelease: '7.2.0', version: undefined, signature: undefined }).verdict).toBe('fixed');
    expect(judgeKernel({ osrelease: '8.0', version: undefined, signature: undefined }).verdict).toBe('fixed');
    for (const eol of ['7.0.9', '6.17.13', '6.13.1', '5.4.300', '4.19.325']) {
      expect([eol, judgeKernel({ osrelease: eol, version: undefined, signature: undefined })]).toMatchObject([eol, { verdict: 'vulnerable', endOfLife: true }]);
    }
    expect((await advisoryOf(await kernelRoot('6.13.12-custom'))).check).toEqual({
      id: 'kernel-advisory',
      status: 'problem',
      message: `the kernel 6.13.12-custom (upstream 6.13.12) lacks the fixes for ${CVES}; its branch reached its end of life without them, and nested virtualization is on: ${IMPACT}`,
      fix: 'upgrade the kernel to a kernel of a maintained branch with the fixes (7.1.3, 6.18.38, 6.12.95, 6.6.144, 6.1.177, 5.15.211, 5.10.260) and reboot, or turn nesting off until then: virt-nested disable-host --reload',
    });
  });

  test('the fixture with a vanilla 6.6.143 built by Debian\'s compiler is judged by its own number, not the compiler\'s', async () => {
    expect(await advisoryOf(fixtureRoot('amd-vanilla-6.6.143-nested-1'))).toMatchObject({ ok: false, check: { status: 'problem' } });
  });
});

describe('Debian: the upstream version is in /proc/version, the release is an ABI name', () => {
  test('6.1.0-47-amd64 is upstream 6.1.170: a problem with nested on, exit 1', async () => {
    expect(await advisoryOf(fixtureRoot('amd-debian-6.1.170-nested-1'))).toEqual({
      ok: false,
      check: {
        id: 'kernel-advisory',
        status: 'problem',
        message: `the kernel 6.1.0-47-amd64 (upstream 6.1.170) lacks the fixes for ${CVES}, and nested virtualization is on: ${IMPACT}`,
        fix: 'upgrade the kernel to 6.1.177 or later and reboot, or turn nesting off until then: virt-nested disable-host --reload',
      },
    });
  });

  test('6.1.0-57-amd64 is upstream 6.1.192: ok', async () => {
    expect(await advisoryOf(fixtureRoot('amd-nested-1'))).toEqual({
      ok: true,
      check: { id: 'kernel-advisory', status: 'ok', message: `the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for ${CVES}` },
    });
  });

  test('with nested off, the vulnerable kernel is not a problem, and the report says so', async () => {
    const root = await copyFixture('amd-debian-6.1.170-nested-1');
    await writeFile(join(root, 'sys/module/kvm_amd/parameters/nested'), '0\n');
    expect((await advisoryOf(root)).check).toEqual({
      id: 'kernel-advisory',
      status: 'ok',
      message: `the kernel 6.1.0-47-amd64 (upstream 6.1.170) lacks the fixes for ${CVES}, but nested virtualization is off, so guests cannot reach them; upgrade the kernel before turning it on`,
    });
  });

  test('an ABI name without Debian\'s /proc/version cannot be judged', () => {
    expect(judgeKernel({ osrelease: '6.1.0-47-amd64', version: undefined, signature: undefined })).toMatchObject({ verdict: 'unknown', kernel: { distribution: 'Debian' } });
    expect(kernelVersion({ osrelease: '6.1.0-47-amd64', version: `Linux version 6.1.0-47-amd64 (debian-kernel@lists.debian.org) ${DEBIAN_GCC} #1 SMP PREEMPT_DYNAMIC Debian 6.1.170-1 (2026-05-02)`, signature: undefined }))
      .toEqual({ release: '6.1.0-47-amd64', upstream: '6.1.170', distribution: 'Debian' });
  });
});

describe('kernels that backport fixes under an unchanged number cannot be judged', () => {
  test('Ubuntu (/proc/version_signature): not-applicable, naming the CVEs to look up; the verdict stays the nested one', async () => {
    expect(await advisoryOf(fixtureRoot('amd-ubuntu-nested-1'))).toEqual({
      ok: true,
      check: {
        id: 'kernel-advisory',
        status: 'not-applicable',
        message: `cannot tell whether the kernel 6.8.0-45-generic has the fixes for ${CVES}, because Ubuntu backports fixes without changing the kernel's upstream number; look them up in Ubuntu's security advisories`,
      },
    });
  });

  test('RHEL, SUSE, Amazon Linux by their release names; no release at all', () => {
    const judge = (osrelease: string | undefined) => judgeKernel({ osrelease, version: undefined, signature: undefined });
    expect(judge('5.14.0-427.13.1.el9_4.x86_64')).toMatchObject({ verdict: 'unknown', kernel: { distribution: 'Red Hat Enterprise Linux (or a rebuild of it)' } });
    expect(judge('6.4.0-150600.23.7-default')).toMatchObject({ verdict: 'unknown', kernel: { distribution: 'SUSE' } });
    expect(judge('6.1.102-111.182.amzn2023.x86_64')).toMatchObject({ verdict: 'unknown', kernel: { distribution: 'Amazon Linux' } });
    expect(judge(undefined)).toMatchObject({ verdict: 'unknown', reason: '/proc/sys/kernel/osrelease cannot be read' });
  });
});
