import * as fsPromises from 'node:fs/promises';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VirshError, VirtNestedError } from '../../src/errors.js';
import { checkHost, enableHost, GuestsRunningError, runCommand, type AtomicWriteFs } from '../../src/host/index.js';
import { copyFixture, recordingRunner, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

const realFs = fsPromises as unknown as AtomicWriteFs;
const KVM_CONF = 'etc/modprobe.d/kvm.conf';
/** What the kernel-advisory item says for the fixtures' kernel (Debian's 6.1.192, with the fixes). */
const KERNEL_OK = 'the kernel 6.1.0-57-amd64 (upstream 6.1.192) has the fixes for CVE-2026-53359 and CVE-2026-46113 (Januscape)';

/** Makes the kernel count `count` users of the module, as a running guest's QEMU would be. */
async function holdModule(root: string, count: number, module = 'kvm_intel'): Promise<void> {
  await writeFile(join(root, `sys/module/${module}/refcnt`), `${count}\n`);
}

/** A file system that records every file opened for writing. */
function spyFs(): AtomicWriteFs & { writes: string[] } {
  const writes: string[] = [];
  return {
    ...realFs,
    writes,
    open: async (path, flags, mode) => {
      if (flags !== 'r') writes.push(path);
      return realFs.open(path, flags, mode);
    },
  };
}

/** virsh answers "no guest runs"; modprobe succeeds and, when loading, sets nested to Y as the kernel would. */
function hostRunner(root: string, module = 'kvm_intel') {
  return recordingRunner(async (file, args) => {
    if (file === 'virsh') return { stdout: '\n', stderr: '', exitCode: 0 };
    if (file === 'modprobe' && args[0] !== '-r') {
      const path = join(root, `sys/module/${module}/parameters/nested`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, 'Y\n');
    }
    return { stdout: '', stderr: '', exitCode: 0 };
  });
}

async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out[path] = `${(await stat(join(root, path))).mode.toString(8)} ${await readFile(join(root, path), 'utf8')}`;
    }
  };
  await walk('.');
  return out;
}

describe('writing kvm.conf', () => {
  test('creates it with the seed\'s line, mode 0644; the second run writes nothing', async () => {
    const root = await copyFixture('intel-nested-off');
    const fs = spyFs();
    const run = recordingRunner();
    const first = await enableHost({ root, run, uid: 0, fs });
    expect(first).toMatchObject({
      ok: true,
      dryRun: false,
      module: 'kvm_intel',
      path: '/etc/modprobe.d/kvm.conf',
      changes: [{ path: '/etc/modprobe.d/kvm.conf', target: '/etc/modprobe.d/kvm.conf', before: null, after: 'options kvm_intel nested=1\n', mode: 0o644 }],
      conflicts: [],
      commands: [],
      reload: 'not-requested',
      nested: 'N',
    });
    expect(first.checks).toEqual([
      { id: 'kernel-advisory', status: 'ok', message: KERNEL_OK },
      { id: 'kvm-conf', status: 'ok', message: 'created /etc/modprobe.d/kvm.conf, which sets nested=1 for kvm_intel' },
      { id: 'reload', status: 'not-applicable', message: 'kvm_intel was not reloaded, so nested=1 applies at its next load', fix: 'run: virt-nested enable-host --reload' },
    ]);
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_intel nested=1\n');
    expect((await stat(join(root, KVM_CONF))).mode & 0o7777).toBe(0o644);
    expect(fs.writes).toHaveLength(1);
    expect(run.calls).toEqual([]);

    const before = await snapshot(root);
    const mtime = (await stat(join(root, KVM_CONF))).mtimeMs;
    const second = await enableHost({ root, run, uid: 0, fs });
    expect(second.changes).toEqual([]);
    expect(second.checks[1]).toEqual({ id: 'kvm-conf', status: 'ok', message: '/etc/modprobe.d/kvm.conf already turns nested on for kvm_intel' });
    expect(fs.writes).toHaveLength(1);
    expect(await snapshot(root)).toEqual(before);
    expect((await stat(join(root, KVM_CONF))).mtimeMs).toBe(mtime);
  });

  test('an existing line with other options: only nested changes, other lines and the file mode are kept', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    await chmod(join(root, KVM_CONF), 0o600);
    const result = await enableHost({ root, run: recordingRunner(), uid: 0 });
    expect(result.changes).toEqual([
      {
        path: '/etc/modprobe.d/kvm.conf',
        target: '/etc/modprobe.d/kvm.conf',
        before: '# KVM options for this host\noptions kvm_intel nested=0 enable_apicv=1\noptions kvm ignore_msrs=1\n',
        after: '# KVM options for this host\noptions kvm_intel nested=1 enable_apicv=1\noptions kvm ignore_msrs=1\n',
        mode: 0o600,
      },
    ]);
    expect(result.checks[1]).toEqual({ id: 'kvm-conf', status: 'ok', message: 'updated /etc/modprobe.d/kvm.conf, which sets nested=1 for kvm_intel' });
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('# KVM options for this host\noptions kvm_intel nested=1 enable_apicv=1\noptions kvm ignore_msrs=1\n');
    expect((await stat(join(root, KVM_CONF))).mode & 0o7777).toBe(0o600);
    expect(await readdir(join(root, 'etc/modprobe.d'))).toEqual(['kvm.conf']);
    const again = await enableHost({ root, run: recordingRunner(), uid: 0 });
    expect(again.changes).toEqual([]);
    expect((await readFile(join(root, KVM_CONF), 'utf8')).match(/nested/g)).toHaveLength(1);
  });

  test('AMD: the user\'s kvm-amd spelling is kept', async () => {
    const root = await copyFixture('amd-nested-0');
    const result = await enableHost({ root, run: recordingRunner(), uid: 0 });
    expect(result.module).toBe('kvm_amd');
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm-amd nested=1\n');
    const report = await checkHost({ root, run: recordingRunner() });
    expect(report.persistent.verdict).toBe('on');
  });

  test('a kvm.conf of /lib/modprobe.d, which ours would hide, has its lines carried over', async () => {
    const root = await copyFixture('intel-nested-off');
    await mkdir(join(root, 'lib/modprobe.d'), { recursive: true });
    await writeFile(join(root, 'lib/modprobe.d/kvm.conf'), 'options kvm_intel enable_apicv=0\n');
    const result = await enableHost({ root, run: recordingRunner(), uid: 0 });
    expect(result.changes).toEqual([{ path: '/etc/modprobe.d/kvm.conf', target: '/etc/modprobe.d/kvm.conf', before: null, after: 'options kvm_intel enable_apicv=0 nested=1\n', mode: 0o644 }]);
    expect(await readFile(join(root, 'lib/modprobe.d/kvm.conf'), 'utf8')).toBe('options kvm_intel enable_apicv=0\n');
  });
});

describe('nested=0 in another file', () => {
  test('is reported, and nothing is written, without --fix-conflicts', async () => {
    const root = await copyFixture('intel-nested0-override-in-later-file');
    const before = await snapshot(root);
    const result = await enableHost({ root, run: recordingRunner(), uid: 0 });
    expect(result.ok).toBe(false);
    expect(result.changes).toEqual([]);
    expect(result.conflicts).toEqual([
      { path: '/etc/modprobe.d/zz-local.conf', line: 2, module: 'kvm-intel', name: 'nested', value: '0', text: 'options kvm-intel nested=0', fixable: true, fixed: false },
    ]);
    expect(result.checks).toEqual([
      { id: 'kernel-advisory', status: 'ok', message: KERNEL_OK },
      { id: 'kvm-conf', status: 'ok', message: '/etc/modprobe.d/kvm.conf already turns nested on for kvm_intel' },
      {
        id: 'conflict',
        status: 'problem',
        message: '/etc/modprobe.d/zz-local.conf line 2 sets nested=0 for kvm_intel after /etc/modprobe.d/kvm.conf, so nested stays off at the next load',
        fix: 'run: virt-nested enable-host --fix-conflicts',
      },
      { id: 'reload', status: 'ok', message: "kvm_intel's nested parameter already reads Y" },
    ]);
    expect(await snapshot(root)).toEqual(before);
  });

  test('is commented out with a note with --fix-conflicts, once', async () => {
    const root = await copyFixture('intel-nested0-override-in-later-file');
    const result = await enableHost({ root, run: recordingRunner(), uid: 0, fixConflicts: true });
    expect(result.ok).toBe(true);
    expect(result.conflicts[0]?.fixed).toBe(true);
    expect(result.checks[2]).toEqual({
      id: 'conflict',
      status: 'ok',
      message: 'commented out nested=0 for kvm_intel in /etc/modprobe.d/zz-local.conf line 2, which overrode /etc/modprobe.d/kvm.conf',
    });
    expect(await readFile(join(root, 'etc/modprobe.d/zz-local.conf'), 'utf8')).toBe(
      '# local tuning\n# virt-nested enable-host --fix-conflicts: the next line set nested for kvm_intel after /etc/modprobe.d/kvm.conf\n# options kvm-intel nested=0\n',
    );
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_intel nested=1\n');
    expect((await checkHost({ root, run: recordingRunner() })).ok).toBe(true);
    const before = await snapshot(root);
    const again = await enableHost({ root, run: recordingRunner(), uid: 0, fixConflicts: true });
    expect([again.changes, again.conflicts, again.ok]).toEqual([[], [], true]);
    expect(await snapshot(root)).toEqual(before);
  });

  test('a package\'s file below /etc is hidden by an /etc copy, not edited', async () => {
    const root = await copyFixture('intel-nested-off');
    await mkdir(join(root, 'usr/lib/modprobe.d'), { recursive: true });
    await writeFile(join(root, 'usr/lib/modprobe.d/zz-vendor.conf'), 'options kvm_intel nested=0 ept=1\n');
    const result = await enableHost({ root, run: recordingRunner(), uid: 0, fixConflicts: true });
    expect(result.ok).toBe(true);
    expect(result.changes.map((c) => [c.path, c.before, c.after])).toEqual([
      ['/etc/modprobe.d/kvm.conf', null, 'options kvm_intel nested=1\n'],
      [
        '/etc/modprobe.d/zz-vendor.conf',
        null,
        '# virt-nested enable-host --fix-conflicts: the next line set nested for kvm_intel after /etc/modprobe.d/kvm.conf\n# options kvm_intel nested=0 ept=1\noptions kvm_intel ept=1\n',
      ],
    ]);
    expect(result.checks[2]?.message).toBe(
      'hid nested=0 for kvm_intel in /usr/lib/modprobe.d/zz-vendor.conf line 1, which overrode /etc/modprobe.d/kvm.conf, behind /etc/modprobe.d/zz-vendor.conf, a copy without it',
    );
    expect(await readFile(join(root, 'usr/lib/modprobe.d/zz-vendor.conf'), 'utf8')).toBe('options kvm_intel nested=0 ept=1\n');
    expect((await checkHost({ root, run: recordingRunner() })).persistent.verdict).toBe('on');
  });

  test('the kernel command line is reported and cannot be fixed here; no reload is attempted', async () => {
    const root = await copyFixture('intel-nested-off');
    await writeFile(join(root, 'proc/cmdline'), 'ro kvm_intel.nested=0\n');
    const run = hostRunner(root);
    const result = await enableHost({ root, run, uid: 0, fixConflicts: true, reload: true });
    expect(result.ok).toBe(false);
    expect(result.reload).toBe('skipped');
    expect(result.conflicts).toEqual([
      { path: '/proc/cmdline', line: 1, module: 'kvm_intel', name: 'nested', value: '0', text: 'kvm_intel.nested=0', fixable: false, fixed: false },
    ]);
    expect(result.checks.slice(2)).toEqual([
      {
        id: 'conflict',
        status: 'problem',
        message: 'the kernel command line sets kvm_intel.nested=0, which overrides every modprobe.d file',
        fix: 'remove kvm_intel.nested=0 from the kernel command line and reboot',
      },
      {
        id: 'reload',
        status: 'problem',
        message: 'kvm_intel was not reloaded, because the kernel command line would still turn nested off',
        fix: 'remove kvm_intel.nested=0 from the kernel command line and reboot',
      },
    ]);
    expect(run.calls).toEqual([]);
  });
});

describe('dry run', () => {
  test('returns the exact plan and changes nothing, even for a user who is not root', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    const before = await snapshot(root);
    const fs = spyFs();
    const run = hostRunner(root);
    const plan = await enableHost({ root, run, uid: 1000, fs, dryRun: true, reload: true });
    expect(plan).toMatchObject({
      ok: true,
      dryRun: true,
      changes: [
        {
          path: '/etc/modprobe.d/kvm.conf',
          target: '/etc/modprobe.d/kvm.conf',
          before: '# KVM options for this host\noptions kvm_intel nested=0 enable_apicv=1\noptions kvm ignore_msrs=1\n',
          after: '# KVM options for this host\noptions kvm_intel nested=1 enable_apicv=1\noptions kvm ignore_msrs=1\n',
          mode: 0o644,
        },
      ],
      commands: [
        { file: 'modprobe', args: ['-r', 'kvm_intel'] },
        { file: 'modprobe', args: ['kvm_intel'] },
      ],
      reload: 'planned',
      nested: 'N',
    });
    expect(plan.checks).toEqual([
      { id: 'kernel-advisory', status: 'ok', message: KERNEL_OK },
      { id: 'kvm-conf', status: 'not-applicable', message: 'would update /etc/modprobe.d/kvm.conf to set nested=1 for kvm_intel' },
      { id: 'reload', status: 'not-applicable', message: 'would reload kvm_intel: modprobe -r kvm_intel, then modprobe kvm_intel' },
    ]);
    // Nothing ran: the kernel's use count (0) decides, libvirt is not asked.
    expect(run.calls).toEqual([]);
    expect(fs.writes).toEqual([]);
    expect(await snapshot(root)).toEqual(before);
  });

  test('plans the conflict fixes too, without writing them', async () => {
    const root = await copyFixture('intel-nested0-override-in-later-file');
    const before = await snapshot(root);
    const plan = await enableHost({ root, run: recordingRunner(), uid: 0, dryRun: true, fixConflicts: true });
    expect(plan.ok).toBe(true);
    expect(plan.changes.map((c) => c.path)).toEqual(['/etc/modprobe.d/zz-local.conf']);
    expect(plan.checks[2]).toEqual({
      id: 'conflict',
      status: 'not-applicable',
      message: 'would comment out nested=0 for kvm_intel in /etc/modprobe.d/zz-local.conf line 2, which overrides /etc/modprobe.d/kvm.conf',
    });
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('refusals change nothing', () => {
  test('not root', async () => {
    const root = await copyFixture('intel-nested-off');
    const before = await snapshot(root);
    const run = hostRunner(root);
    const error = await enableHost({ root, run, uid: 1000, reload: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VirtNestedError);
    expect(error).toMatchObject({
      code: 'NOT_PERMITTED',
      message: 'enable-host writes /etc/modprobe.d/kvm.conf and reloads kernel modules, which needs root; run it with sudo, or with --dry-run to see the plan',
    });
    expect(await snapshot(root)).toEqual(before);
    expect(run.calls).toEqual([]);
  });

  test('not x86', async () => {
    const root = await copyFixture('aarch64');
    const before = await snapshot(root);
    await expect(enableHost({ root, run: recordingRunner(), uid: 0 })).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message: 'nested virtualization is only supported on x86, and this CPU is aarch64, so enable-host changed nothing',
    });
    expect(await snapshot(root)).toEqual(before);
  });

  test('no svm flag', async () => {
    const root = await copyFixture('no-vmx-svm');
    const before = await snapshot(root);
    await expect(enableHost({ root, run: recordingRunner(), uid: 0, dryRun: true })).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message:
        'the CPU has no svm flag, so kvm_amd cannot run guests and enable-host changed nothing; this machine is itself a guest: on its host, give it a CPU with svm (virt-nested set-cpu GUEST --mode host-model) and restart it',
    });
    expect(await snapshot(root)).toEqual(before);
  });

  test('guests running: named, no modprobe, no file written', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    await holdModule(root, 2);
    const before = await snapshot(root);
    const run = recordingRunner((file) => (file === 'virsh' ? { stdout: 'web-1\ndb "2"\n\n', stderr: '', exitCode: 0 } : { stdout: '', stderr: '', exitCode: 0 }));
    const error = await enableHost({ root, run, uid: 0, reload: true, uri: 'qemu+ssh://hv1/system' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestsRunningError);
    expect(error).toMatchObject({
      code: 'GUESTS_RUNNING',
      guests: ['web-1', 'db "2"'],
      uri: 'qemu+ssh://hv1/system',
      message: 'guests "web-1", "db \\"2\\"" are running on qemu+ssh://hv1/system, so kvm_intel was not reloaded and nothing was changed; shut them down first or run without --reload',
    });
    expect(run.calls.map((c) => c.file)).toEqual(['virsh']);
    expect(await snapshot(root)).toEqual(before);
  });

  test('one guest running, in a dry run too', async () => {
    const root = await copyFixture('intel-nested-off');
    await holdModule(root, 1);
    const run = recordingRunner(() => ({ stdout: 'web-1\n\n', stderr: '', exitCode: 0 }));
    await expect(enableHost({ root, run, uid: 0, reload: true, dryRun: true })).rejects.toMatchObject({
      code: 'GUESTS_RUNNING',
      message: 'guest "web-1" is running on qemu:///system, so kvm_intel was not reloaded and nothing was changed; shut it down first (virsh -c qemu:///system shutdown --domain web-1) or run without --reload',
    });
  });

  test('the suggested virsh command passes the name as --domain NAME, quoted for a shell, with -c URI', async () => {
    const root = await copyFixture('intel-nested-off');
    await holdModule(root, 1);
    const uri = 'qemu+ssh://root@hv 1/system?keyfile=/k';
    const run = recordingRunner(() => ({ stdout: "--web 'one'\n\n", stderr: '', exitCode: 0 }));
    await expect(enableHost({ root, run, uid: 0, reload: true, dryRun: true, uri })).rejects.toMatchObject({
      code: 'GUESTS_RUNNING',
      guests: ["--web 'one'"],
      message: `guest "--web 'one'" is running on ${uri}, so kvm_intel was not reloaded and nothing was changed; shut it down first (virsh -c 'qemu+ssh://root@hv 1/system?keyfile=/k' shutdown --domain '--web '\\''one'\\''') or run without --reload`,
    });
    const equals = recordingRunner(() => ({ stdout: '=web\n', stderr: '', exitCode: 0 }));
    await expect(enableHost({ root, run: equals, uid: 0, reload: true, dryRun: true })).rejects.toMatchObject({
      message: "guest \"=web\" is running on qemu:///system, so kvm_intel was not reloaded and nothing was changed; shut it down first (virsh -c qemu:///system shutdown --domain '=web') or run without --reload",
    });
  });

  test('the kernel counts the module in use and libvirt cannot be asked (the real virsh, a socket that does not exist): still refused', async () => {
    const root = await copyFixture('intel-nested-off');
    await holdModule(root, 1);
    const before = await snapshot(root);
    const modprobe: string[][] = [];
    const run = async (file: string, args: readonly string[]) => {
      if (file === 'virsh') return runCommand(file, args);
      modprobe.push([file, ...args]);
      return { stdout: '', stderr: '', exitCode: 0 };
    };
    const uri = 'qemu+unix:///system?socket=/nonexistent';
    const error = await enableHost({ root, run, uid: 0, reload: true, uri }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestsRunningError);
    expect(error).toMatchObject({
      code: 'GUESTS_RUNNING',
      guests: [],
      message: `kvm_intel is in use (use count 1) and libvirt at ${uri} could not say which guests hold it (Failed to connect socket to '/nonexistent': No such file or directory), so kvm_intel was not reloaded and nothing was changed; find what holds it with: fuser -v /dev/kvm, stop it, and run again, or run without --reload`,
    });
    expect(modprobe).toEqual([]);
    expect(await snapshot(root)).toEqual(before);
  });

  test('in use by a QEMU libvirt does not list (a libvirtd that was stopped): refused, and the refusal carries the report', async () => {
    const root = await copyFixture('intel-nested-off');
    await holdModule(root, 3);
    const run = recordingRunner(() => ({ stdout: '\n', stderr: '', exitCode: 0 }));
    const error = await enableHost({ root, run, uid: 0, reload: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'GUESTS_RUNNING',
      guests: [],
      message:
        'kvm_intel is in use (use count 3) by processes libvirt at qemu:///system does not list (such as a QEMU left running by a stopped libvirtd), so kvm_intel was not reloaded and nothing was changed; find what holds it with: fuser -v /dev/kvm, stop it, and run again, or run without --reload',
      report: { ok: false, changes: [], commands: [], module: 'kvm_intel' },
    });
    expect(run.calls.map((c) => c.file)).toEqual(['virsh']);
  });

  test('libvirt unreachable and nothing holds the module: reloaded all the same, libvirt never asked', async () => {
    const root = await copyFixture('intel-nested-off');
    const run = hostRunner(root);
    const result = await enableHost({ root, run, uid: 0, reload: true, uri: 'qemu+unix:///system?socket=/nonexistent' });
    expect([result.ok, result.reload, result.nested]).toEqual([true, 'done', 'Y']);
    expect(run.calls.map((c) => [c.file, ...c.args])).toEqual([
      ['modprobe', '-r', 'kvm_intel'],
      ['modprobe', 'kvm_intel'],
    ]);
  });
});

describe('a write that fails', () => {
  const failure = (code: string) => Object.assign(new Error(`${code}: simulated failure`), { code });

  test('a read-only /etc: one sentence, the old file untouched, no temp file', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    const before = await snapshot(root);
    const fs: AtomicWriteFs = { ...realFs, open: async (path, flags, mode) => (flags === 'r' ? realFs.open(path, flags, mode) : Promise.reject(failure('EROFS'))) };
    await expect(enableHost({ root, run: recordingRunner(), uid: 0, fs })).rejects.toMatchObject({
      code: 'FILE_UNWRITABLE',
      message: 'cannot write /etc/modprobe.d/kvm.conf (EROFS: simulated failure), so it was left as it was; make /etc/modprobe.d writable and run enable-host again',
    });
    expect(await snapshot(root)).toEqual(before);
  });

  test('failing half way through: the old bytes stay and the temp file is removed; no reload follows', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    const before = await snapshot(root);
    const fs: AtomicWriteFs = {
      ...realFs,
      open: async (path, flags, mode) => {
        const handle = await realFs.open(path, flags, mode);
        if (flags === 'r') return handle;
        return {
          writeFile: async (data: string) => {
            await handle.writeFile(data.slice(0, 10));
            throw failure('ENOSPC');
          },
          sync: () => handle.sync(),
          chmod: (m: number) => handle.chmod(m),
          close: () => handle.close(),
        };
      },
    };
    const run = hostRunner(root);
    await expect(enableHost({ root, run, uid: 0, fs, reload: true })).rejects.toMatchObject({ code: 'FILE_UNWRITABLE' });
    expect(await snapshot(root)).toEqual(before);
    expect(run.calls).toEqual([]);
  });

  /** Fails opening for writing only the temp files of `name`; records the temp files opened for writing. */
  function failingFor(name: string): AtomicWriteFs & { opened: string[] } {
    const opened: string[] = [];
    return {
      ...realFs,
      opened,
      open: async (path, flags, mode) => {
        if (flags === 'r') return realFs.open(path, flags, mode);
        opened.push(basename(path).replace(/\.\d+\.[0-9a-f]{12}\.tmp$/, '.tmp'));
        return basename(path).startsWith(`.${name}.`) ? Promise.reject(failure('EROFS')) : realFs.open(path, flags, mode);
      },
    };
  }

  test('a later file failing puts back the one written before it: nothing is changed, no temp file is left', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    await chmod(join(root, KVM_CONF), 0o640);
    await writeFile(join(root, 'etc/modprobe.d/zz-local.conf'), 'options kvm_intel nested=0\n');
    const kvmConf = await readFile(join(root, KVM_CONF), 'utf8');
    const before = await snapshot(root);
    const fs = failingFor('zz-local.conf');
    const run = hostRunner(root);
    await expect(enableHost({ root, run, uid: 0, fs, fixConflicts: true, reload: true })).rejects.toMatchObject({
      code: 'FILE_UNWRITABLE',
      message:
        'cannot write /etc/modprobe.d/zz-local.conf (EROFS: simulated failure), so nothing was changed: /etc/modprobe.d/kvm.conf, written before it, was put back as it was; make /etc/modprobe.d writable and run enable-host again',
    });
    // kvm.conf was written, then written back with its old bytes and mode.
    expect(fs.opened).toEqual(['.kvm.conf.tmp', '.zz-local.conf.tmp', '.kvm.conf.tmp']);
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe(kvmConf);
    expect((await stat(join(root, KVM_CONF))).mode & 0o7777).toBe(0o640);
    expect((await readdir(join(root, 'etc/modprobe.d'))).sort()).toEqual(['kvm.conf', 'zz-local.conf']);
    expect(await snapshot(root)).toEqual(before);
    expect(run.calls).toEqual([]);
  });

  test('a kvm.conf created before the failing file is removed again', async () => {
    const root = await copyFixture('intel-nested-off');
    await mkdir(join(root, 'etc/modprobe.d'), { recursive: true });
    await writeFile(join(root, 'etc/modprobe.d/zz-local.conf'), 'options kvm_intel nested=0\n');
    const before = await snapshot(root);
    const fs = failingFor('zz-local.conf');
    await expect(enableHost({ root, run: recordingRunner(), uid: 0, fs, fixConflicts: true })).rejects.toMatchObject({
      code: 'FILE_UNWRITABLE',
      message:
        'cannot write /etc/modprobe.d/zz-local.conf (EROFS: simulated failure), so nothing was changed: /etc/modprobe.d/kvm.conf, written before it, was put back as it was; make /etc/modprobe.d writable and run enable-host again',
    });
    expect(fs.opened).toEqual(['.kvm.conf.tmp', '.zz-local.conf.tmp']);
    expect((await readdir(join(root, 'etc/modprobe.d'))).sort()).toEqual(['zz-local.conf']);
    expect(await snapshot(root)).toEqual(before);
  });

  test('a file that cannot be put back is named, with why', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    await writeFile(join(root, 'etc/modprobe.d/zz-local.conf'), 'options kvm_intel nested=0\n');
    let kvmConfWrites = 0;
    const fs: AtomicWriteFs = {
      ...realFs,
      open: async (path, flags, mode) => {
        if (flags === 'r') return realFs.open(path, flags, mode);
        if (basename(path).startsWith('.zz-local.conf.')) return Promise.reject(failure('EROFS'));
        kvmConfWrites += 1;
        return kvmConfWrites === 1 ? realFs.open(path, flags, mode) : Promise.reject(failure('ENOSPC'));
      },
    };
    await expect(enableHost({ root, run: recordingRunner(), uid: 0, fs, fixConflicts: true })).rejects.toMatchObject({
      code: 'FILE_UNWRITABLE',
      message:
        'cannot write /etc/modprobe.d/zz-local.conf (EROFS: simulated failure), and putting back what was written before it failed for /etc/modprobe.d/kvm.conf (ENOSPC: simulated failure), which keeps its new bytes; make /etc/modprobe.d writable and run enable-host again',
    });
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('# KVM options for this host\noptions kvm_intel nested=1 enable_apicv=1\noptions kvm ignore_msrs=1\n');
    expect((await readdir(join(root, 'etc/modprobe.d'))).sort()).toEqual(['kvm.conf', 'zz-local.conf']);
  });

  test('rename failing', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    const before = await snapshot(root);
    const fs: AtomicWriteFs = { ...realFs, rename: async () => Promise.reject(failure('EBUSY')) };
    await expect(enableHost({ root, run: recordingRunner(), uid: 0, fs })).rejects.toMatchObject({ code: 'FILE_UNWRITABLE' });
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('reload', () => {
  test('when no guest runs: modprobe -r, then modprobe, and nested is read again', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    const run = hostRunner(root);
    const result = await enableHost({ root, run, uid: 0, reload: true });
    expect(run.calls).toEqual([
      { file: 'modprobe', args: ['-r', 'kvm_intel'], options: { timeout: 120000 } },
      { file: 'modprobe', args: ['kvm_intel'], options: { timeout: 120000 } },
    ]);
    expect(result).toMatchObject({ ok: true, reload: 'done', nested: 'Y' });
    expect(result.checks[2]).toEqual({ id: 'reload', status: 'ok', message: "reloaded kvm_intel, and its nested parameter reads Y" });
  });

  test('a module not loaded is only loaded', async () => {
    const root = await copyFixture('intel-module-not-loaded');
    const run = hostRunner(root);
    const result = await enableHost({ root, run, uid: 0, reload: true });
    expect(run.calls.filter((c) => c.file === 'modprobe').map((c) => c.args)).toEqual([['kvm_intel']]);
    expect(result.ok).toBe(true);
  });

  test('not needed when nested already reads Y', async () => {
    const root = await copyFixture('intel-nested-on');
    const run = hostRunner(root);
    const result = await enableHost({ root, run, uid: 0, reload: true });
    expect([result.reload, result.commands, run.calls]).toEqual(['not-needed', [], []]);
    expect(result.checks).toEqual([
      { id: 'kernel-advisory', status: 'ok', message: KERNEL_OK },
      { id: 'kvm-conf', status: 'ok', message: '/etc/modprobe.d/kvm.conf already turns nested on for kvm_intel' },
      { id: 'reload', status: 'ok', message: "kvm_intel's nested parameter already reads Y, so no reload was needed" },
    ]);
  });

  test('nested still off after the reload is a problem', async () => {
    const root = await copyFixture('intel-nested-off');
    const run = recordingRunner((file) => (file === 'virsh' ? { stdout: '', stderr: '', exitCode: 0 } : { stdout: '', stderr: '', exitCode: 0 }));
    const result = await enableHost({ root, run, uid: 0, reload: true });
    expect(result.ok).toBe(false);
    expect(result.checks[2]).toEqual({ id: 'reload', status: 'problem', message: 'reloaded kvm_intel, but its nested parameter reads N', fix: 'look for why in the kernel log: dmesg | grep -i kvm' });
  });

  test('a module in use by a guest libvirt does not know', async () => {
    const root = await copyFixture('intel-nested-off');
    const run = recordingRunner((file, args) =>
      file === 'modprobe' && args[0] === '-r' ? { stdout: '', stderr: 'modprobe: FATAL: Module kvm_intel is in use.\n', exitCode: 1 } : { stdout: '', stderr: '', exitCode: 0 },
    );
    await expect(enableHost({ root, run, uid: 0, reload: true })).rejects.toMatchObject({
      code: 'GUESTS_RUNNING',
      guests: [],
      message:
        'kvm_intel is in use by processes libvirt at qemu:///system does not list (such as a QEMU left running by a stopped libvirtd), so kvm_intel was not reloaded (modprobe: FATAL: Module kvm_intel is in use.) and /etc/modprobe.d/kvm.conf was already written and stays, so nested=1 applies at its next load; find what holds it with: fuser -v /dev/kvm, stop it, and run again, or run without --reload',
    });
    // The kernel counted no user when read, then modprobe -r said no (a guest started meanwhile): libvirt is asked for names only then.
    expect(run.calls.map((c) => [c.file, ...c.args])).toEqual([
      ['modprobe', '-r', 'kvm_intel'],
      ['virsh', '-c', 'qemu:///system', 'list', '--name'],
    ]);
  });

  test('no modprobe on the machine, and a load that fails', async () => {
    const root = await copyFixture('intel-nested-off');
    const missing = recordingRunner((file) => (file === 'virsh' ? { stdout: '', stderr: '', exitCode: 0 } : { stdout: '', stderr: 'modprobe: command not found', exitCode: 127 }));
    await expect(enableHost({ root, run: missing, uid: 0, reload: true })).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message: 'modprobe -r kvm_intel failed (modprobe: command not found), so kvm_intel was not reloaded, but /etc/modprobe.d/kvm.conf was already written and stays, so nested=1 applies at its next load',
    });
    const failingLoad = recordingRunner((file, args) =>
      file === 'modprobe' && args[0] !== '-r' ? { stdout: '', stderr: 'modprobe: ERROR: could not insert \'kvm_intel\': Operation not supported\n', exitCode: 1 } : { stdout: '', stderr: '', exitCode: 0 },
    );
    await expect(enableHost({ root, run: failingLoad, uid: 0, reload: true })).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message: "modprobe kvm_intel failed (modprobe: ERROR: could not insert 'kvm_intel': Operation not supported), so kvm_intel is not loaded now; load it by hand with: modprobe kvm_intel",
    });
  });

  test('a reload that fails after several files were written names them all, and they stay', async () => {
    const root = await copyFixture('intel-kvm-conf-with-other-options');
    await writeFile(join(root, 'etc/modprobe.d/zz-local.conf'), 'options kvm_intel nested=0\n');
    const inUse = recordingRunner((file, args) =>
      file === 'modprobe' && args[0] === '-r' ? { stdout: '', stderr: 'modprobe: FATAL: Module kvm_intel is in use.\n', exitCode: 1 } : { stdout: '', stderr: '', exitCode: 0 },
    );
    await expect(enableHost({ root, run: inUse, uid: 0, reload: true, fixConflicts: true })).rejects.toMatchObject({
      code: 'GUESTS_RUNNING',
      message:
        'kvm_intel is in use by processes libvirt at qemu:///system does not list (such as a QEMU left running by a stopped libvirtd), so kvm_intel was not reloaded (modprobe: FATAL: Module kvm_intel is in use.) and /etc/modprobe.d/kvm.conf and /etc/modprobe.d/zz-local.conf were already written and stay, so nested=1 applies at its next load; find what holds it with: fuser -v /dev/kvm, stop it, and run again, or run without --reload',
    });
    expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('# KVM options for this host\noptions kvm_intel nested=1 enable_apicv=1\noptions kvm ignore_msrs=1\n');
    expect((await checkHost({ root, run: recordingRunner() })).persistent.verdict).toBe('on');

    const failingLoad = recordingRunner((file, args) =>
      file === 'modprobe' && args[0] !== '-r' ? { stdout: '', stderr: "modprobe: ERROR: could not insert 'kvm_intel': Operation not supported\n", exitCode: 1 } : { stdout: '', stderr: '', exitCode: 0 },
    );
    const created = await copyFixture('intel-nested-off');
    await expect(enableHost({ root: created, run: failingLoad, uid: 0, reload: true })).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message:
        "modprobe kvm_intel failed (modprobe: ERROR: could not insert 'kvm_intel': Operation not supported), so kvm_intel is not loaded now, but /etc/modprobe.d/kvm.conf was already written and stays, so nested=1 applies at its next load; load it by hand with: modprobe kvm_intel",
    });
  });

  test('no virsh at all means no libvirt guests', async () => {
    const root = await copyFixture('intel-nested-off');
    const run = recordingRunner(async (file) => {
      if (file === 'virsh') return { stdout: '', stderr: 'virsh: command not found', exitCode: 127 };
      await writeFile(join(root, 'sys/module/kvm_intel/parameters/nested'), 'Y\n');
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    expect((await enableHost({ root, run, uid: 0, reload: true })).reload).toBe('done');
  });
});
