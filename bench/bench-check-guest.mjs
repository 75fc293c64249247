// check-guest GUEST (one virsh session: domstate, two dumpxml, QMP query-cpus-fast and qom-get) vs a
// bare `virsh dumpxml GUEST`, on a running throw-away TCG guest; medians of 9 runs, ratio printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, median, report } from './measure.mjs';

const virsh = (...args) => spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8' });
if (virsh('version').status !== 0) {
  report('check-guest vs virsh dumpxml', ['skipped: libvirtd is not reachable at qemu:///system']);
  process.exit(0);
}
const name = `vn-bench-cg-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'vn-bench-'));
const file = join(dir, 'guest.xml');
writeFileSync(file, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>48</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><cpu mode='host-model' check='partial'/></domain>\n`);
const time = (cmd, args) => { const t0 = process.hrtime.bigint(); const r = spawnSync(cmd, args, { encoding: 'utf8' }); return [Number(process.hrtime.bigint() - t0) / 1e6, r.status]; };
try {
  virsh('define', '--file', file);
  virsh('start', '--domain', name);
  const ours = [], theirs = [];
  let status;
  for (let i = 0; i < 9; i++) {
    const [ms, code] = time(process.execPath, [CLI, 'check-guest', name, '-c', 'qemu:///system']);
    ours.push(ms); status = code;
    theirs.push(time('virsh', ['-c', 'qemu:///system', 'dumpxml', '--domain', name])[0]);
  }
  report('check-guest vs virsh dumpxml', [
    `virt-nested check-guest GUEST (whole check, exit ${status}): ${median(ours).toFixed(1)} ms (median of 9)`,
    `virsh dumpxml GUEST alone:                       ${median(theirs).toFixed(1)} ms (median of 9)`,
    `ratio: ${(median(ours) / median(theirs)).toFixed(2)}`,
  ]);
} finally {
  virsh('destroy', '--domain', name);
  virsh('undefine', '--domain', name);
  rmSync(dir, { recursive: true, force: true });
}
