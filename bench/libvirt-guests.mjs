// Throw-away TCG guests for the benchmarks that need the real libvirtd: defined, reset and removed in
// batches through one virsh process each (virsh reads commands from stdin), so that setting up 200
// guests does not cost 200 process start-ups.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SYSTEM = 'qemu:///system';

export const virsh = (...args) => spawnSync('virsh', ['-c', SYSTEM, ...args], { encoding: 'utf8' });

/** Why the libvirt benchmarks cannot run here, or undefined when they can. */
export function libvirtMissing() {
  const r = spawnSync('virsh', ['-c', SYSTEM, 'version'], { encoding: 'utf8' });
  if (r.error) return 'virsh is not installed';
  return r.status === 0 ? undefined : `libvirtd is not reachable at ${SYSTEM}`;
}

/** Whether a command is on PATH. */
export const hasCommand = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

function virshBatch(lines) {
  const r = spawnSync('virsh', ['-q', '-c', SYSTEM], { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 64 << 20 });
  const errors = (r.stderr ?? '').split('\n').filter((l) => l.startsWith('error:'));
  return errors;
}

/**
 * `count` shut-off 48 MiB TCG guests named `prefix-000`…, each with a fixed UUID so that defining its
 * file again puts its original definition back (libvirt's own `<cpu mode='custom'>` for TCG).
 */
export function createGuests(prefix, count) {
  const dir = mkdtempSync(join(tmpdir(), 'vn-bench-guests-'));
  const guests = Array.from({ length: count }, (_, i) => {
    const name = `${prefix}-${String(i).padStart(3, '0')}`;
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, `<domain type='qemu'>\n  <name>${name}</name>\n  <uuid>${randomUUID()}</uuid>\n  <memory unit='MiB'>48</memory>\n  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n</domain>\n`);
    return { name, file };
  });
  const set = {
    dir,
    guests,
    /** Defines every guest (again): their CPU is back to what libvirt gives a new TCG guest. */
    reset(subset = guests) {
      const errors = virshBatch(subset.map((g) => `define --file ${g.file}`));
      if (errors.length) throw new Error(`defining the benchmark guests failed: ${errors[0]}`);
    },
    remove() {
      virshBatch(guests.map((g) => `undefine --domain ${g.name}`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    set.reset();
  } catch (error) {
    set.remove();
    throw error;
  }
  return set;
}

/** `virsh dumpxml --inactive --security-info` of one guest. */
export const inactiveXml = (name) => virsh('dumpxml', '--inactive', '--security-info', '--domain', name).stdout;

/** Lines that differ between two texts (removed plus added), as a line diff counts them. */
export async function changedLines(before, after) {
  const { diffLines } = await import('diff');
  let count = 0;
  for (const part of diffLines(before, after)) if (part.added || part.removed) count += part.count ?? 0;
  return count;
}

/** Milliseconds a command takes, and its exit status. */
export function time(command, args, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.status, stdout: r.stdout, stderr: r.stderr };
}
