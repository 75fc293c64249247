import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { historyParent, makeHistoryDir, removeHistoryDir } from '../../src/virsh/history-dir.js';
import { ROOT } from '../e2e/run-cli.js';

let scratch: string;
beforeEach(() => { scratch = mkdtempSync(join(tmpdir(), 'vn-history-')); });
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

test('each run gets a private directory under a fixed private parent; those of dead processes are removed on start', () => {
  const parent = join(scratch, 'parent');
  const dead = join(parent, `${deadPid()}-AbCdEf`);
  const alive = join(parent, '1-AbCdEf');
  mkdirSync(join(dead, 'libvirt', 'virsh'), { recursive: true, mode: 0o700 });
  mkdirSync(alive, { mode: 0o700 });
  const dir = makeHistoryDir(parent) as string;
  expect(dir).toMatch(new RegExp(`^${parent}/${process.pid}-\\w{6}$`));
  expect([lstatSync(parent).mode & 0o777, lstatSync(dir).mode & 0o777]).toEqual([0o700, 0o700]);
  expect(readdirSync(parent).sort()).toEqual(['1-AbCdEf', dir.slice(parent.length + 1)].sort());
  removeHistoryDir(dir);
  expect(existsSync(dir)).toBe(false);
});

test('a parent that is a link, or open to others, is not used (nobody can plant a link in it)', () => {
  const elsewhere = join(scratch, 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o700 });
  const linked = join(scratch, 'linked');
  symlinkSync(elsewhere, linked);
  const dir = makeHistoryDir(linked) as string;
  expect(dir.startsWith(`${linked}-`)).toBe(true);
  expect(readdirSync(elsewhere)).toEqual([]);
  removeHistoryDir(dir);
  const open = join(scratch, 'open');
  mkdirSync(open, { mode: 0o777 });
  const second = makeHistoryDir(open) as string;
  expect(second.startsWith(`${open}-`)).toBe(true);
  removeHistoryDir(second);
});

test('after a SIGKILL of virt-nested mid-session, the next session removes the history directory it left', async () => {
  // a virt-nested process with an open session, killed without any chance to clean up
  const script = `
    import { openVirsh } from '${ROOT}dist/lib/index.js';
    const session = await openVirsh({ uri: 'qemu:///system' });
    process.stdout.write('open\\n');
    setInterval(() => {}, 1000);
  `;
  // a TMPDIR of its own: any other virt-nested run of this user (another test file, another checkout)
  // would remove the directory of the killed process from the shared parent before this test looks
  const parent = join(scratch, basename(historyParent()));
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: scratch } });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', (code) => reject(new Error(`the session process exited with ${code}`)));
  });
  const left = readdirSync(parent).filter((name) => name.startsWith(`${child.pid}-`));
  expect(left).toHaveLength(1);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  // its virsh sees its stdin close, quits and writes its history into the directory
  for (let i = 0; i < 100 && !existsSync(join(parent, left[0] as string, 'libvirt')); i++) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(join(parent, left[0] as string))).toBe(true);
  const next = makeHistoryDir(parent) as string;
  removeHistoryDir(next);
  expect(existsSync(join(parent, left[0] as string))).toBe(false);
});
