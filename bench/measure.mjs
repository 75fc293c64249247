// Shared by the benchmarks: where the corpus is, medians, and one way of printing results.
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const CORPUS = fileURLToPath(new URL('../../shared/corpus/libvirt-9.0.0/domains/', import.meta.url));

export function median(values) {
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function report(title, lines) {
  console.log(`\n== ${title}`);
  for (const line of lines) console.log(`  ${line}`);
}
