/**
 * disableHost, the way back: nested=0 persisted as enable-host persists nested=1, the same reload
 * guard, and check-host agreeing afterwards. Also enable-host's refusal of a vulnerable kernel, and
 * a symlinked kvm.conf written through to its target.
 */
import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkHost, disableHost, enableHost, GuestsRunningError } from '../../src/host/index.js';
import { copyFixture, recordingRunner, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

const KVM_CONF = 'etc/modprobe.d/kvm.conf';

/** modprobe succeeds and, when loading, sets nested as kvm.conf says, as the kernel would; virsh lists `guests`. */
function kernelRunner(root: string, module = 'kvm_amd', guests = '') {
  return recordingRunner(async (file, args) => {
    if (file === 'virsh') return { stdout: guests, stderr: '', exitCode: 0 };
    if (file === 'modprobe' && args[0] !== '-r') {
      const conf = await readFile(join(root, KVM_CONF), 'utf8');
      const path = join(root, `sys/module/${module}/parameters/nested`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, /nested=1/.test(conf) ? '1\n' : '0\n');
    }
    return { stdout: '', stderr: '', exitCode: 0 };
  });
}

describe('disableHost', () => {
  test('writes nested=0, reloads, and check-host then says nested is off; the second run changes nothing', async () => {
    const root = await copyFixture('amd-nested-1');
    const run = kernelRunner(root);
    const result = await disableHost({ root, run, uid: 0, reload: true });
    expect(result).toMatchObject({
      ok: true,
      module: 'kvm_amd',
      changes: [{ path: '/etc/modprobe.d/kvm.conf', target: '/etc/modprobe.d/kvm.conf', before: null, after: 'options kvm_amd nested=0\n', mode: 0o644 }],
      commands: [{ file: 'modprobe', args: ['-r', 'kvm_amd'] }, { file: 'modprobe', args: ['kvm_amd'] }],
      reload: 'done',
      nested: '0',
      persistent: { verdict: 'off', value: '0' },
    });
    expect(result.checks).toEqual([
      { id: 'kvm-conf', status: 'ok', message: 'created /etc/modprobe.d/kvm.conf, which sets nested=0 for kvm_amd' },
      { id: 'reload', status: 'ok', message: 'reloaded kvm_amd, and its nested parameter reads 0' },
    ]);
    expect(run.calls.map((c) => [c.file, ...c.args])).toEqual([['modprobe', '-r', 'kvm_amd'], ['modprobe', 'kvm_amd']]);
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_amd nested=0\n');
    const report = await checkHost({ root, run: recordingRunner() });
    expect([report.ok, report.nested, report.persistent.verdict]).toEqual([false, '0', 'off']);

    const mtime = (await stat(join(root, KVM_CONF))).mtimeMs;
    const again = await disableHost({ root, run: kernelRunner(root), uid: 0, reload: true });
    expect([again.changes, again.commands, again.reload, again.ok]).toEqual([[], [], 'not-needed', true]);
    expect(again.checks).toEqual([
      { id: 'kvm-conf', status: 'ok', message: '/etc/modprobe.d/kvm.conf already turns nested off for kvm_amd' },
      { id: 'reload', status: 'ok', message: "kvm_amd's nested parameter already reads 0, so no reload was needed" },
    ]);
    expect((await stat(join(root, KVM_CONF))).mtimeMs).toBe(mtime);
  });

  test('enable-host turns the same line back on, and disable-host off again: one line, never two', async () => {
    const root = await copyFixture('amd-nested-0');
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm-amd nested=0\n');
    await enableHost({ root, run: recordingRunner(), uid: 0 });
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm-amd nested=1\n');
    await disableHost({ root, run: recordingRunner(), uid: 0 });
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm-amd nested=0\n');
  });

  test('a later nested=1 is a conflict, named; --fix-conflicts comments it out', async () => {
    const root = await copyFixture('amd-nested-1');
    await mkdir(join(root, 'etc/modprobe.d'), { recursive: true });
    await writeFile(join(root, 'etc/modprobe.d/zz-nested.conf'), 'options kvm_amd nested=1 avic=1\n');
    const left = await disableHost({ root, run: recordingRunner(), uid: 0 });
    expect(left.ok).toBe(false);
    expect(left.checks[1]).toEqual({
      id: 'conflict',
      status: 'problem',
      message: '/etc/modprobe.d/zz-nested.conf line 1 sets nested=1 for kvm_amd after /etc/modprobe.d/kvm.conf, so nested stays on at the next load',
      fix: 'run: virt-nested disable-host --fix-conflicts',
    });
    const fixed = await disableHost({ root, run: recordingRunner(), uid: 0, fixConflicts: true });
    expect(fixed.ok).toBe(true);
    expect(await readFile(join(root, 'etc/modprobe.d/zz-nested.conf'), 'utf8')).toBe(
      '# virt-nested disable-host --fix-conflicts: the next line set nested for kvm_amd after /etc/modprobe.d/kvm.conf\n# options kvm_amd nested=1 avic=1\noptions kvm_amd avic=1\n',
    );
    expect((await checkHost({ root, run: recordingRunner() })).persistent.verdict).toBe('off');
  });

  test('--reload is refused while the kernel counts the module in use, naming the guests libvirt lists; nothing written', async () => {
    const root = await copyFixture('amd-nested-1');
    await writeFile(join(root, 'sys/module/kvm_amd/refcnt'), '1\n');
    const run = kernelRunner(root, 'kvm_amd', 'web-1\n\n');
    const error = await disableHost({ root, run, uid: 0, reload: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestsRunningError);
    expect((error as Error).message).toBe(
      'guest "web-1" is running on qemu:///system, so kvm_amd was not reloaded and nothing was changed; shut it down first (virsh -c qemu:///system shutdown --domain web-1) or run without --reload',
    );
    expect(await readdir(root)).not.toContain('etc');
    expect(run.calls.map((c) => c.file)).toEqual(['virsh']);
  });

  test('needs no vmx/svm flag and no libvirt: a module not loaded gets nested=0 when it loads', async () => {
    const root = await copyFixture('no-vmx-svm');
    const run = recordingRunner();
    const result = await disableHost({ root, run, uid: 0, reload: true });
    expect([result.ok, result.module, result.reload]).toEqual([true, 'kvm_amd', 'not-needed']);
    expect(result.checks[1]).toEqual({ id: 'reload', status: 'ok', message: 'kvm_amd is not loaded, so no reload was needed: nested=0 applies when it loads' });
    expect(run.calls).toEqual([]);
  });

  test('not root: refused, in the same words as enable-host', async () => {
    const root = await copyFixture('amd-nested-1');
    await expect(disableHost({ root, run: recordingRunner(), uid: 1000 })).rejects.toMatchObject({
      code: 'NOT_PERMITTED',
      message: 'disable-host writes /etc/modprobe.d/kvm.conf and reloads kernel modules, which needs root; run it with sudo, or with --dry-run to see the plan',
    });
  });
});

describe('enable-host on a kernel without the fixes', () => {
  const REFUSAL =
    "the kernel 6.1.0-47-amd64 (upstream 6.1.170) lacks the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape) (a guest allowed nested virtualization can escape to the host through use-after-frees in KVM/x86's shadow MMU), so enable-host changed nothing; upgrade the kernel to 6.1.177 or later and reboot, or accept the risk with --allow-vulnerable-kernel";

  test('is refused whatever nested reads now, in a dry run too; nothing is written or run', async () => {
    for (const nested of ['1', '0']) {
      const root = await copyFixture('amd-debian-6.1.170-nested-1');
      await writeFile(join(root, 'sys/module/kvm_amd/parameters/nested'), `${nested}\n`);
      for (const dryRun of [false, true]) {
        const run = recordingRunner();
        const error = await enableHost({ root, run, uid: 0, reload: true, dryRun }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'KERNEL_VULNERABLE', message: REFUSAL, report: { ok: false, changes: [], kernel: { upstream: '6.1.170' } } });
        expect(run.calls).toEqual([]);
        expect(await readdir(root)).not.toContain('etc');
      }
    }
  });

  test('goes ahead with allowVulnerableKernel, and says what it accepted', async () => {
    const root = await copyFixture('amd-debian-6.1.170-nested-1');
    const result = await enableHost({ root, run: recordingRunner(), uid: 0, allowVulnerableKernel: true });
    expect(result.ok).toBe(true);
    expect(result.checks[0]).toMatchObject({ id: 'kernel-advisory', status: 'problem' });
    expect(result.checks[0]?.message.endsWith('; enabled anyway, as --allow-vulnerable-kernel asks')).toBe(true);
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_amd nested=1\n');
  });

  test('a kernel that cannot be judged (Ubuntu) is not refused; the report says what to look up', async () => {
    const root = await copyFixture('amd-ubuntu-nested-1');
    const result = await enableHost({ root, run: recordingRunner(), uid: 0, dryRun: true });
    expect(result.checks[0]).toMatchObject({ id: 'kernel-advisory', status: 'not-applicable' });
  });
});

describe('a symlinked kvm.conf', () => {
  test('is written through to its target, which ends up with the new line; the link stays a link', async () => {
    for (const [name, direction] of [['enable', 'on'], ['disable', 'off']] as const) {
      const root = await copyFixture('amd-nested-1');
      await mkdir(join(root, 'etc/modprobe.d'), { recursive: true });
      await mkdir(join(root, 'srv/config'), { recursive: true });
      await writeFile(join(root, 'srv/config/kvm.conf'), `# shared\noptions kvm_amd nested=${direction === 'on' ? 0 : 1}\n`, { mode: 0o640 });
      // Absolute, as admins write them: resolved under the root, never on the machine running the test.
      await symlink('/srv/config/kvm.conf', join(root, KVM_CONF));
      const change = name === 'enable' ? enableHost : disableHost;
      const result = await change({ root, run: recordingRunner(), uid: 0 });
      expect(result.changes).toEqual([
        {
          path: '/etc/modprobe.d/kvm.conf',
          target: '/srv/config/kvm.conf',
          before: `# shared\noptions kvm_amd nested=${direction === 'on' ? 0 : 1}\n`,
          after: `# shared\noptions kvm_amd nested=${direction === 'on' ? 1 : 0}\n`,
          mode: 0o640,
        },
      ]);
      expect((await lstat(join(root, KVM_CONF))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(root, KVM_CONF))).toBe('/srv/config/kvm.conf');
      expect(await readFile(join(root, 'srv/config/kvm.conf'), 'utf8')).toBe(`# shared\noptions kvm_amd nested=${direction === 'on' ? 1 : 0}\n`);
      expect((await stat(join(root, 'srv/config/kvm.conf'))).mode & 0o7777).toBe(0o640);
      expect((await readdir(join(root, 'srv/config'))).sort()).toEqual(['kvm.conf']);
      expect((await checkHost({ root, run: recordingRunner() })).persistent.verdict).toBe(direction);
    }
  });

  test('a link to something that is not a regular file is refused, saying so, and left as it was', async () => {
    const root = await copyFixture('amd-nested-1');
    await mkdir(join(root, 'etc/modprobe.d'), { recursive: true });
    await symlink('/dev/null', join(root, KVM_CONF));
    await expect(enableHost({ root, run: recordingRunner(), uid: 0 })).rejects.toMatchObject({
      code: 'FILE_UNWRITABLE',
      message: '/etc/modprobe.d/kvm.conf is a symlink to /dev/null, which does not exist, so it was left as it was and nothing was changed; point it at a regular file (or replace it with one) and run again',
    });
    await mkdir(join(root, 'dev'), { recursive: true });
    await mkdir(join(root, 'dev/null'));
    await expect(disableHost({ root, run: recordingRunner(), uid: 0 })).rejects.toMatchObject({
      message: '/etc/modprobe.d/kvm.conf is a symlink to /dev/null, which is not a regular file, so it was left as it was and nothing was changed; point it at a regular file (or replace it with one) and run again',
    });
    expect(await readlink(join(root, KVM_CONF))).toBe('/dev/null');
  });
});
