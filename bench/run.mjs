// `npm run bench`: every benchmark, each measured against its peer in the same run, ratios printed.
// Run after `npm run build`. Benchmarks that need libvirt or virt-xml say so and are skipped when absent.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here).filter((f) => f.startsWith('bench-') && f.endsWith('.mjs')).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
let failed = 0;
for (const file of benches) {
  const r = spawnSync(process.execPath, ['--expose-gc', `${here}${file}`], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`  (${file} exited ${r.status})`); }
}
process.exitCode = failed ? 1 : 0;
