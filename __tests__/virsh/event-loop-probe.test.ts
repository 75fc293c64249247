/**
 * The probe that tells when a watching virsh has registered its event callback: over made-up `/proc`
 * trees (every answer it can give), and on a real virsh before and inside `event --loop`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inEventLoop } from '../../src/virsh/event-loop-probe.js';
import { virshEnvironment } from '../../src/virsh/virsh-process.js';
import { watchLifecycleEvents } from '../../src/virsh/lifecycle-events.js';

let proc: string;
beforeEach(() => { proc = mkdtempSync(join(tmpdir(), 'vn-proc-')); });
afterEach(() => rmSync(proc, { recursive: true, force: true }));

/** A process 42 whose `syscall` file reads `line` and whose descriptors point where `fds` says. */
function fakeProcess(line: string | undefined, fds: Record<number, string> = {}): void {
  mkdirSync(join(proc, '42', 'fd'), { recursive: true });
  if (line !== undefined) writeFileSync(join(proc, '42', 'syscall'), `${line}\n`);
  for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(proc, '42', 'fd', fd));
}

const x64 = () => ({ proc, arch: 'x64' });

test.each([
  ['blocked in read() on a pipe other than stdin: in the event loop', '0 0x6 0x7ffd41939d27 0x1 0x0 0x0 0x0 0x7ffd41939cf0 0x7f71d0f2b1dc', { 6: 'pipe:[744417]' }, true],
  ['waiting for its next command line (pselect6 on stdin)', '270 0x1 0x7ffd41939cf0 0x0 0x0 0x0 0x0 0x7ffd41939cb8 0x7f71d0f2b1dc', {}, false],
  ['waiting for libvirtd (poll)', '7 0x55d0c1a0 0x2 0xffffffff 0x0 0x0 0x0 0x7ffd41939b08 0x7f71d0f2b1dc', {}, false],
  ['reading stdin', '0 0x0 0x7ffd41939d27 0x1 0x0 0x0 0x0 0x7ffd41939cf0 0x7f71d0f2b1dc', { 0: 'pipe:[1]' }, false],
  ['reading a socket', '0 0x5 0x7ffd41939d27 0x1 0x0 0x0 0x0 0x7ffd41939cf0 0x7f71d0f2b1dc', { 5: 'socket:[99]' }, false],
  ['on a CPU now', 'running', {}, false],
  ['not in a system call', '-1 0x7ffd41939cf0 0x7f71d0f2b1dc', {}, false],
])('%s', async (_what, line, fds, expected) => {
  fakeProcess(line, fds);
  expect(await inEventLoop(42, x64())).toBe(expected);
});

test('a descriptor gone meanwhile is "not yet", never "in the loop"', async () => {
  fakeProcess('0 0x6 0x7ffd41939d27 0x1 0x0 0x0 0x0 0x7ffd41939cf0 0x7f71d0f2b1dc');
  expect(await inEventLoop(42, x64())).toBe(false);
});

test('the numbers of read() are per architecture: 63 on arm64, unknown elsewhere is "cannot tell"', async () => {
  fakeProcess('63 0x6 0x7ffd41939d27 0x1 0x0 0x0 0x0 0x7ffd41939cf0 0x7f71d0f2b1dc', { 6: 'pipe:[5]' });
  expect(await inEventLoop(42, { proc, arch: 'arm64' })).toBe(true);
  expect(await inEventLoop(42, x64())).toBe(false);
  expect(await inEventLoop(42, { proc, arch: 's390x' })).toBeUndefined();
});

test('a /proc that cannot be read (another OS, a hardened kernel) is "cannot tell"', async () => {
  fakeProcess(undefined);
  expect(await inEventLoop(42, x64())).toBeUndefined();
  expect(await inEventLoop(43, x64())).toBeUndefined();
});

describe('a real virsh', () => {
  const onThisMachine = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
  const maybe = onThisMachine ? test : test.skip;

  maybe('is not in its event loop at its prompt, and is once `event --loop` has registered', async () => {
    const virsh = spawn('virsh', ['-q', '-c', 'qemu:///system'], { stdio: ['pipe', 'pipe', 'ignore'], env: virshEnvironment() });
    try {
      let out = '';
      virsh.stdout.on('data', (data: Buffer) => { out += data.toString(); });
      const until = async (test: () => Promise<boolean> | boolean) => { while (!(await test())) await new Promise((r) => setTimeout(r, 5)); };
      virsh.stdin.write('echo ready\n');
      await until(() => /\nready|^ready/.test(out.replace('echo ready', '')));
      await new Promise((r) => setTimeout(r, 50));
      expect(await inEventLoop(virsh.pid as number)).toBe(false);
      virsh.stdin.write('event --event lifecycle --loop --timeout 60\n');
      await until(async () => (await inEventLoop(virsh.pid as number)) === true);
      expect(await inEventLoop(virsh.pid as number)).toBe(true);
    } finally {
      virsh.kill('SIGKILL');
    }
  }, 30_000);

  maybe('a watch is ready once registered, and then sees a define made right after', async () => {
    const watch = watchLifecycleEvents('qemu:///system', undefined);
    try {
      expect(await watch.ready).toBe(true);
      // no guest needed: an undefine of a name that does not exist sends no event, a define does
      const name = `vn-probe-${process.pid}`;
      const file = join(proc, 'guest.xml');
      writeFileSync(file, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>48</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>`);
      const define = spawn('virsh', ['-q', '-c', 'qemu:///system', 'define', '--file', file], { stdio: 'ignore' });
      await new Promise((r) => define.once('close', r));
      try {
        expect(await watch.waitFor((events) => events.some((e) => e.domain === name && e.event === 'Defined'), 10_000)).toBe(true);
        expect(watch.events.filter((e) => e.domain === name)).toEqual([{ domain: name, event: 'Defined', detail: 'Added' }]);
      } finally {
        const undefine = spawn('virsh', ['-q', '-c', 'qemu:///system', 'undefine', '--domain', name], { stdio: 'ignore' });
        await new Promise((r) => undefine.once('close', r));
      }
    } finally {
      await watch.close();
    }
  }, 30_000);
});
