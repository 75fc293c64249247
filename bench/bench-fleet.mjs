// Many guests in one call vs one call per guest: `virt-nested set-cpu --mode host-model --match GLOB` over
// 50 shut-off TCG guests (one virsh session for all of them) vs a loop of
// `virt-xml GUEST --edit --cpu host-model,check=partial` over the same guests; then how our time grows
// from 10 to 50 to 200 guests (ms per guest should stay roughly flat: no process start per guest).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, median, report } from './measure.mjs';
import { SYSTEM, createGuests, hasCommand, inactiveXml, libvirtMissing, time } from './libvirt-guests.mjs';

const TITLE = 'fleet: one set-cpu call vs virt-xml per guest';
const missing = libvirtMissing();
if (missing) {
  report(TITLE, [`skipped: ${missing}`]);
  process.exit(0);
}

const prefix = `vn-bench-fleet-${process.pid}`;
const backups = mkdtempSync(join(tmpdir(), 'vn-bench-backups-'));
const env = { ...process.env, VIRT_NESTED_BACKUP_DIR: backups };
const set = createGuests(prefix, 200);
const removeAll = () => { set.remove(); rmSync(backups, { recursive: true, force: true }); };
process.once('SIGINT', () => { removeAll(); process.exit(130); });

/** One `set-cpu` call over the guests GLOB selects; checks that it changed exactly `count`. */
function ours(glob, count) {
  const r = time(process.execPath, [CLI, 'set-cpu', '--mode', 'host-model', '-c', SYSTEM, '--match', glob], { env });
  const summary = r.stdout.trim().split('\n').pop();
  const wanted = `${count} guests on 1 host: ${count} changed, 0 unchanged, 0 skipped, 0 failed`;
  if (r.status !== 0 || summary !== wanted) throw new Error(`set-cpu over ${glob} exited ${r.status}: ${summary}\n${r.stderr.slice(0, 500)}`);
  return r.ms;
}

try {
  const fifty = set.guests.slice(0, 50);
  const lines = [];
  // one call is a few seconds, so a busy machine shows in it: median of three (guests reset before each)
  const runs = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) set.reset(fifty);
    runs.push(ours(`${prefix}-0[0-4][0-9]`, 50));
  }
  const oursMs = median(runs);
  lines.push(`virt-nested set-cpu --match (50 guests, one call): ${oursMs.toFixed(0)} ms (median of ${runs.map((ms) => ms.toFixed(0)).join(', ')})`);
  if (!hasCommand('virt-xml')) {
    lines.push('virt-xml loop: skipped (virt-xml not installed; apt-get install virtinst)');
  } else {
    set.reset(fifty);
    let theirsMs = 0;
    for (const guest of fifty) {
      const r = time('virt-xml', ['-c', SYSTEM, guest.name, '--edit', '--cpu', 'host-model,check=partial']);
      if (r.status !== 0) throw new Error(`virt-xml ${guest.name} exited ${r.status}: ${r.stderr}`);
      theirsMs += r.ms;
    }
    if (!inactiveXml(fifty[49].name).includes("<cpu mode='host-model' check='partial'/>")) throw new Error('virt-xml did not set host-model');
    lines.push(`virt-xml --edit loop (50 calls):                 ${theirsMs.toFixed(0)} ms`);
    lines.push(`ratio: ours is ${(theirsMs / oursMs).toFixed(1)}x faster (goal >= 15x, bar 10x)`);
  }

  lines.push('growth (one call each, guests reset before each):');
  const perGuest = [];
  for (const [count, glob] of [[10, `${prefix}-00[0-9]`], [50, `${prefix}-0[0-4][0-9]`], [200, `${prefix}-*`]]) {
    set.reset();
    const ms = ours(glob, count);
    perGuest.push([count, ms]);
    lines.push(`  ${String(count).padStart(3)} guests: ${ms.toFixed(0).padStart(6)} ms, ${(ms / count).toFixed(1)} ms per guest`);
  }
  const [[n0, t0], , [n2, t2]] = perGuest;
  lines.push(`  each guest beyond the first ${n0}: ${((t2 - t0) / (n2 - n0)).toFixed(1)} ms (the fixed cost of one call is start-up and one virsh connection)`);
  report(TITLE, lines);
} finally {
  removeAll();
}
