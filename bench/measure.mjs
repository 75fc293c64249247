// Shared by the benchmarks: where the corpus is, medians, and one way of printing results.
//
// Every benchmark imports this module first, so this is where NODE_EXTRA_CA_CERTS goes away for what
// they spawn (our CLI, node -e 0, virsh, virt-xml, …): some sandboxes set it, users do not, and Node 20
// then parses every CA certificate at start-up (about 40 ms) before any of our code runs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

delete process.env.NODE_EXTRA_CA_CERTS;

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The built CLI, as package.json's `bin` names it (run as `node CLI`). */
export const CLI = `${ROOT}${JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).bin['virt-nested']}`;
export const CORPUS = fileURLToPath(new URL('../fixtures/libvirt-9.0.0/domains/', import.meta.url));

export function median(values) {
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function report(title, lines) {
  console.log(`\n== ${title}`);
  for (const line of lines) console.log(`  ${line}`);
}
