// set-cpu on one real shut-off guest vs `virt-xml GUEST --edit --cpu host-model,check=partial`, median of
// 11 runs each, taken in turn (the guest's original definition put back before every run), ratio printed;
// the lines each changed in `virsh dumpxml --inactive` and in the document each sends to libvirt. Both run
// without NODE_EXTRA_CA_CERTS, as on a user's machine (see measure.mjs); `--version` is bench-startup's.
// Also how long our run takes before its first virsh starts: a `virsh` on PATH ahead of the real one
// notes the time it was started at, then becomes the real one.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, median, report } from './measure.mjs';
import { SYSTEM, changedLines, createGuests, hasCommand, inactiveXml, libvirtMissing, time } from './libvirt-guests.mjs';

const TITLE = 'set-cpu GUEST vs virt-xml --edit (one shut-off guest)';
const RUNS = 11;
const missing = libvirtMissing();
if (missing) {
  report(TITLE, [`skipped: ${missing}`]);
  process.exit(0);
}

const backups = mkdtempSync(join(tmpdir(), 'vn-bench-backups-'));
const env = { ...process.env, VIRT_NESTED_BACKUP_DIR: backups };
const set = createGuests(`vn-bench-set-cpu-${process.pid}`, 1);
const [{ name }] = set.guests;
const removeAll = () => { set.remove(); rmSync(backups, { recursive: true, force: true }); };
process.once('SIGINT', () => { removeAll(); process.exit(130); });

/** Lines a unified diff adds or removes (its `---`/`+++` header excluded). */
const diffBodyLines = (text) => text.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)).length;
const ms = (values) => `${median(values).toFixed(0)} ms`;

// a virsh that notes when it was started (nanoseconds since the epoch), then runs the real one
const noting = mkdtempSync(join(tmpdir(), 'vn-bench-virsh-'));
const spawnLog = join(noting, 'started');
const realVirsh = spawnSync('sh', ['-c', 'command -v virsh'], { encoding: 'utf8' }).stdout.trim();
writeFileSync(join(noting, 'virsh'), `#!/bin/sh\ndate +%s%N >> '${spawnLog}'\nexec '${realVirsh}' "$@"\n`);
chmodSync(join(noting, 'virsh'), 0o755);

try {
  const original = inactiveXml(name);
  const withVirtXml = hasCommand('virt-xml');
  const ours = [];
  const theirs = [];
  let oursChanged;
  let theirsChanged;
  const spawnedAfter = [];
  const setCpu = () => {
    set.reset();
    rmSync(spawnLog, { force: true });
    const started = Date.now() * 1e6;
    const r = time(process.execPath, [CLI, 'set-cpu', name, '--mode', 'host-model', '-c', SYSTEM], { env: { ...env, PATH: `${noting}:${process.env.PATH}` } });
    if (r.status !== 0) throw new Error(`set-cpu exited ${r.status}: ${r.stderr}`);
    const first = Math.min(...readFileSync(spawnLog, 'utf8').trim().split('\n').map(Number));
    spawnedAfter.push((first - started) / 1e6);
    return r.ms;
  };
  for (let i = 0; i < RUNS; i++) {
    ours.push(setCpu());
    oursChanged = await changedLines(original, inactiveXml(name));
    if (!withVirtXml) continue;
    set.reset();
    const v = time('virt-xml', ['-c', SYSTEM, name, '--edit', '--cpu', 'host-model,check=partial']);
    if (v.status !== 0) throw new Error(`virt-xml exited ${v.status}: ${v.stderr}`);
    theirs.push(v.ms);
    theirsChanged = await changedLines(original, inactiveXml(name));
  }

  // what each would send to libvirt, as a diff against the definition it read
  set.reset();
  const file = join(backups, 'original.xml');
  writeFileSync(file, original);
  const ourDiff = time(process.execPath, [CLI, 'set-cpu', '--file', file, '--mode', 'host-model', '--diff']).stdout;

  const lines = [`virt-nested set-cpu GUEST:  ${ms(ours)} (median of ${RUNS}); ${oursChanged} lines changed in dumpxml --inactive; ${diffBodyLines(ourDiff)} lines changed in what it defines`,
    `  of which before its first virsh started: ${ms(spawnedAfter)} (median; Node's own start-up included)`];
  if (withVirtXml) {
    const theirDiff = time('virt-xml', ['-c', SYSTEM, name, '--edit', '--cpu', 'host-model,check=partial', '--print-diff']).stdout;
    lines.push(`virt-xml --edit --cpu:      ${ms(theirs)} (median of ${RUNS}); ${theirsChanged} lines changed in dumpxml --inactive; ${diffBodyLines(theirDiff)} lines changed in what it defines`);
    lines.push(`ratio: ${(median(ours) / median(theirs)).toFixed(2)}x virt-xml's time (goal <= 0.60x, bar 0.70x)`);
  } else {
    lines.push('virt-xml: skipped (virt-xml not installed; apt-get install virtinst)');
  }
  report(TITLE, lines);
} finally {
  removeAll();
  rmSync(noting, { recursive: true, force: true });
}
