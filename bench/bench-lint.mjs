// `virt-nested lint` over the whole corpus in one process vs `virt-xml-validate FILE domain` once per
// file over the same files. Prints both times, the ratio, and the number of files whose schema
// verdicts disagree (must be 0).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, CORPUS, report } from './measure.mjs';

const which = spawnSync('sh', ['-c', 'command -v virt-xml-validate'], { encoding: 'utf8' });
if (which.status !== 0) {
  report('lint vs virt-xml-validate', ['skipped: virt-xml-validate is not installed (apt-get install libvirt-clients)']);
  process.exit(0);
}
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.xml')).sort().map((f) => join(CORPUS, f));

let t0 = process.hrtime.bigint();
const lint = spawnSync(process.execPath, [CLI, 'lint', '--format', 'json', CORPUS], { encoding: 'utf8', maxBuffer: 64 << 20 });
const oursMs = Number(process.hrtime.bigint() - t0) / 1e6;
const invalidOurs = new Set(JSON.parse(lint.stdout).problems.filter((p) => p.rule === 'schema').map((p) => p.file));

t0 = process.hrtime.bigint();
const invalidTheirs = new Set();
for (const file of files) {
  const r = spawnSync('virt-xml-validate', [file, 'domain'], { stdio: 'ignore' });
  if (r.status !== 0) invalidTheirs.add(file);
}
const theirsMs = Number(process.hrtime.bigint() - t0) / 1e6;
const disagreements = files.filter((f) => invalidOurs.has(f) !== invalidTheirs.has(f));

report('lint vs virt-xml-validate', [
  `files: ${files.length}; invalid per virt-xml-validate: ${invalidTheirs.size}, per virt-nested: ${invalidOurs.size}`,
  `virt-nested lint (one process, all rules + schema): ${oursMs.toFixed(0)} ms`,
  `virt-xml-validate once per file:                    ${theirsMs.toFixed(0)} ms`,
  `speed-up: ${(theirsMs / oursMs).toFixed(1)}x (target >= 15x); disagreements: ${disagreements.length}${disagreements.length ? ` (${disagreements.join(', ')})` : ''}`,
]);
if (disagreements.length) process.exitCode = 1;
