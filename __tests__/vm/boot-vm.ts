/**
 * Boots Debian's kernel under QEMU TCG (`-cpu max` emulates AMD SVM, so `kvm_amd` loads for real) with
 * this machine's `/` mounted read-only over 9p, runs `scenarios.sh` inside as the first process, and
 * returns what it wrote to the results share. One boot per kernel: node takes 10-25 s per CLI run under
 * TCG, so the scenarios run one after the other in that one boot and the tests only read their results.
 * `setup.sh` (run by `.ci/run`) must have prepared the kernel and the initramfs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, as the VM sees it too (the same path on the shared root). */
export const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = join(PROJECT, '__tests__', 'vm');
const CACHE = join(PROJECT, '.cache', 'vm');

/** One kernel of `kernels.txt`, the one place where the kernel packages are pinned. */
export interface VmKernel {
  readonly role: 'main' | 'vulnerable';
  /** The ABI name: `uname -r` in the VM, and the package `linux-image-ABI`. */
  readonly abi: string;
  /** The Debian package version, e.g. `6.1.192-3`. */
  readonly version: string;
  /** The upstream version that `/proc/version` carries, e.g. `6.1.192`. */
  readonly upstream: string;
}

/** The kernels pinned in `kernels.txt`. */
export function vmKernels(): VmKernel[] {
  return readFileSync(join(HERE, 'kernels.txt'), 'utf8').split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [role, abi, version, upstream] = line.trim().split(/\s+/);
      return { role: role as VmKernel['role'], abi: abi!, version: version!, upstream: upstream! };
    });
}

/** The kernel pinned for `role`. */
export function vmKernel(role: VmKernel['role']): VmKernel {
  const kernel = vmKernels().find((k) => k.role === role);
  if (!kernel) throw new Error(`__tests__/vm/kernels.txt pins no kernel for the role "${role}"`);
  return kernel;
}

/** What one boot left: the results folder and how the VM ended. */
export interface VmRun {
  readonly results: string;
  readonly seconds: number;
  readonly exitCode: number | null;
  /** The serial console (kernel log and vm-init's messages), for failure messages. */
  readonly console: string;
  /** What QEMU printed on its standard error ("terminating on signal 15 …" when it was stopped). */
  readonly qemuStderr?: string;
  /**
   * How the emulated machine failed under the guest kernel, when it did (see {@link emulatorFault}):
   * such a boot says nothing of virt-nested.
   */
  readonly emulatorFault?: string;
}

/** Bounds: one whole boot, and nothing longer. */
export const VM_TIMEOUT_MS: Record<VmKernel['role'], number> = { main: 30 * 60_000, vulnerable: 12 * 60_000 };
/** How many times {@link runScenarios} boots a kernel at most: again after each boot lost to an emulator fault. */
export const MAX_BOOTS = 3;
/** A test's bound on {@link runScenarios}: every boot it may take, and a minute more. */
export const SCENARIOS_TIMEOUT_MS: Record<VmKernel['role'], number> = {
  main: MAX_BOOTS * VM_TIMEOUT_MS.main + 60_000,
  vulnerable: MAX_BOOTS * VM_TIMEOUT_MS.vulnerable + 60_000,
};

/**
 * Boots the VM for `kernel.role` and waits until it powers itself off (or kills it at the bound).
 * With `VIRT_NESTED_VM_RESULTS=DIR` set, it boots nothing and returns the results of an earlier boot
 * kept in `DIR/ROLE/results`, as a boot leaves them in `.cache/vm/runs` (for working on the assertions; CI never sets it).
 *
 * @example
 * const run = await bootVm(vmKernel('main'));
 * readFileSync(join(run.results, '05-check-host.exit'), 'utf8'); // '0\n'
 */
export async function bootVm(kernel: VmKernel): Promise<VmRun> {
  const reuse = process.env['VIRT_NESTED_VM_RESULTS'];
  if (reuse) {
    const results = join(reuse, kernel.role, 'results');
    return { results, seconds: 0, exitCode: 0, console: readIfExists(join(reuse, kernel.role, 'console.log')) };
  }
  const dir = join(CACHE, kernel.abi);
  for (const file of ['vmlinuz', 'initramfs.cpio.gz']) {
    if (!existsSync(join(dir, file))) throw new Error(`${join(dir, file)} is missing: run bash __tests__/vm/setup.sh first (.ci/run does)`);
  }
  if (!existsSync(`/lib/modules/${kernel.abi}/modules.dep`)) throw new Error(`/lib/modules/${kernel.abi} is missing: run bash __tests__/vm/setup.sh first (.ci/run does)`);
  // the kernel command line splits on spaces; the project share is mounted at this very path
  if (/\s/.test(PROJECT)) throw new Error(`the VM tests cannot run from ${PROJECT}: its path holds a space`);
  const run = join(CACHE, 'runs', kernel.role);
  const results = join(run, 'results');
  rmSync(run, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const consoleLog = join(run, 'console.log');
  const qemuLog = join(run, 'qemu.log');
  const args = [
    // a TCG thread per vCPU: one thread for both (tcg,thread=single) was tried against the faults that
    // emulatorFault names and made the main boot 497 s in a full CI run, against 317-390 s
    '-accel', 'tcg', '-cpu', 'max', '-m', '2048', '-smp', '2',
    '-display', 'none', '-monitor', 'none', '-no-reboot', '-nodefaults', '-serial', `file:${consoleLog}`,
    // QEMU's log of CPU resets: a triple fault, which the guest kernel cannot print, is written there
    '-d', 'cpu_reset', '-D', qemuLog,
    '-kernel', join(dir, 'vmlinuz'), '-initrd', join(dir, 'initramfs.cpio.gz'),
    '-append', `console=ttyS0 panic=-1 quiet vm.role=${kernel.role} vm.project=${PROJECT.replace(/\/$/, '')} vm.script=${join(HERE, 'scenarios.sh')}`,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${results},mount_tag=results,security_model=none,multidevs=remap`,
    '-virtfs', `local,path=${PROJECT},mount_tag=project,security_model=none,readonly=on,multidevs=remap`,
  ];
  const started = Date.now();
  let stalled = false;
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    // coreutils' timeout bounds qemu even if this process dies without its exit handler (SIGKILL)
    const bound = `${Math.ceil(VM_TIMEOUT_MS[kernel.role] / 1000) + 30}`;
    const qemu = spawn('timeout', ['--kill-after=10', bound, 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    qemu.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    // never leave qemu running: killed at the bound, and when jest itself goes away
    const kill = () => qemu.kill('SIGTERM'); // timeout passes it on to qemu
    const timer = setTimeout(kill, VM_TIMEOUT_MS[kernel.role]);
    // TCG sometimes stalls the emulated CPUs for good (the kernel then reports soft lockups and RCU
    // stalls, and nothing runs again): stop such a boot at once rather than at the bound
    const watchdog = setInterval(() => {
      if (STALLED.test(readIfExists(consoleLog))) { stalled = true; kill(); }
    }, 10_000);
    process.once('exit', kill);
    qemu.on('error', (error) => { clearTimeout(timer); clearInterval(watchdog); reject(error); });
    qemu.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      process.removeListener('exit', kill);
      writeFileSync(join(run, 'qemu.stderr'), stderr);
      resolve(signal ? null : code);
    });
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(run, 'seconds'), `${seconds}\n`);
  const consoleText = readIfExists(consoleLog);
  const qemuStderr = readIfExists(join(run, 'qemu.stderr'));
  const fault = emulatorFault({ console: consoleText, qemuLog: readIfExists(qemuLog), stalled });
  return { results, seconds, exitCode, console: consoleText, qemuStderr, ...(fault ? { emulatorFault: fault } : {}) };
}

/** What the guest kernel prints when its emulated CPUs stopped making progress. */
const STALLED = /watchdog: BUG: soft lockup|rcu: INFO: rcu_preempt detected stalls/;
/**
 * What it prints when it panics. Seen once inside the vCPU thread of an L2 KVM guest ("corrupted stack
 * end detected inside scheduler"): TCG's emulation of nested SVM is not exact. (`panic=-1` and
 * `-no-reboot` then end qemu at once.)
 */
const PANICKED = /Kernel panic - not syncing[^\n]*/;
/**
 * What QEMU's `-d cpu_reset` log says when the emulated CPU faulted while delivering a double fault: the
 * machine resets (and `-no-reboot` ends qemu with exit 0), and the kernel prints nothing. Seen once in CI,
 * while `set-cpu` ran in the VM with no L2 guest: the VM was gone in mid-step with an empty console.
 */
const TRIPLE_FAULT = /^Triple fault$/m;

/**
 * How the emulated machine failed under the guest kernel, from what one boot left, or `undefined`: its
 * CPUs stalled (the boot was stopped early), the kernel panicked, or the CPU triple-faulted. No program
 * virt-nested runs can cause one of these; the guest kernel and QEMU's TCG can, and under TCG on a busy
 * two-core machine they do, rarely (twice in about a dozen boots).
 *
 * @example
 * emulatorFault({ console: '', qemuLog: 'Triple fault\n', stalled: false }); // → 'the emulated CPU triple-faulted, which resets the machine'
 */
export function emulatorFault(boot: { readonly console: string; readonly qemuLog: string; readonly stalled: boolean }): string | undefined {
  if (boot.stalled) return 'its emulated CPUs stalled (soft lockups or RCU stalls)';
  const panic = PANICKED.exec(boot.console);
  if (panic) return `the kernel panicked ("${panic[0]}")`;
  if (TRIPLE_FAULT.test(boot.qemuLog)) return 'the emulated CPU triple-faulted, which resets the machine';
  return undefined;
}

/**
 * Boots the VM for `role` and requires that its scenarios ran to the end; a VM that stopped early fails
 * with its kernel, how it ended, the step it stopped at and the console's tail.
 *
 * @example
 * beforeAll(async () => { run = await runScenarios('main'); }, SCENARIOS_TIMEOUT_MS.main);
 */
export async function runScenarios(role: VmKernel['role']): Promise<VmRun> {
  const kernel = vmKernel(role);
  const lost: string[] = [];
  let run = await bootVm(kernel);
  // a boot whose emulated machine failed says nothing of virt-nested: boot again, up to MAX_BOOTS; a
  // failure virt-nested caused would come again in each boot, and a boot that ends otherwise is judged
  while (run.emulatorFault && lost.length < MAX_BOOTS - 1) {
    lost.push(`boot ${lost.length + 1}: ${run.emulatorFault} after ${run.seconds} s`);
    run = await bootVm(kernel);
  }
  if (vmFile(run, 'done') !== 'done\n') {
    const ended = run.emulatorFault ?? `qemu exit ${String(run.exitCode)}`;
    const earlier = lost.length ? `; earlier boots lost to emulator faults: ${lost.join('; ')}` : '';
    const stderr = run.qemuStderr?.trim() ? `\nqemu's stderr:\n${run.qemuStderr.trim()}` : '';
    throw new Error(`the VM (${kernel.abi}) did not finish its scenarios (${ended} after ${run.seconds} s${earlier}); its trace:\n${vmFile(run, 'log')}${stderr}\nconsole tail:\n${run.console.slice(-3000)}`);
  }
  return run;
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** One command the VM ran: exit code, stdout, stderr, and the kernel's files right after it. */
export interface VmStep {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `/sys/module/kvm_amd/parameters/nested`, trimmed, or `absent`. */
  readonly nested: string;
  /** `/sys/module/kvm_amd/refcnt`, trimmed, or `absent`. */
  readonly refcnt: string;
  /** The `options kvm_amd` lines of `modprobe -c`. */
  readonly modprobeC: string;
  /** Every `/etc/modprobe.d` file: `== PATH inode=N` and its bytes. */
  readonly modprobeD: string;
}

/** Reads step `name` of a run; a step that never ran fails with its name and the run's trace. */
export function vmStep(run: VmRun, name: string): VmStep {
  const file = (suffix: string) => join(run.results, `${name}.${suffix}`);
  if (!existsSync(file('exit'))) {
    throw new Error(`the VM never ran step ${name}; its trace:\n${readIfExists(join(run.results, 'log'))}\nconsole tail:\n${run.console.slice(-3000)}`);
  }
  const text = (suffix: string) => readIfExists(file(suffix));
  return {
    exit: Number(text('exit').trim()),
    stdout: text('stdout'),
    stderr: text('stderr'),
    nested: text('nested').trim(),
    refcnt: text('refcnt').trim(),
    modprobeC: text('modprobe-c'),
    modprobeD: text('modprobe-d'),
  };
}

/** Any other file the VM wrote (`NAME.xml`, `NAME.qom-svm`, `uname`, …); '' when it is missing. */
export function vmFile(run: VmRun, name: string): string {
  return readIfExists(join(run.results, name));
}

/** The `nested=` value that modprobe would use at the next load: the last one among its options lines. */
export function resolvedNested(modprobeC: string): string | undefined {
  const values = [...modprobeC.matchAll(/\bnested=(\S+)/g)].map((m) => m[1]);
  return values.at(-1);
}

/**
 * Asserts that a step which reloads kvm_amd (enable-host/disable-host --reload) succeeded quietly and left
 * the kernel and modprobe's configuration agreeing on `nested`.
 *
 * @example
 * expectReloaded(vmStep(run, '20-disable-host'), '0');
 */
export function expectReloaded(step: VmStep, nested: '0' | '1'): void {
  expect(step.stderr).toBe('');
  expect(step.exit).toBe(0);
  expect(step.nested).toBe(nested);
  expect(resolvedNested(step.modprobeC)).toBe(nested);
}
