// parse + setCpuMode + serialize over the libvirt corpus vs fast-xml-parser's own parse of the same
// files, in the same run. Prints both medians, their ratio, and memory per document.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parseDomain, setCpuMode, serializeDomain } from '../dist/lib/index.js';
import { CORPUS, median, report } from './measure.mjs';

const files = readdirSync(CORPUS).filter((f) => f.endsWith('.xml')).sort();
const texts = files.map((f) => readFileSync(join(CORPUS, f), 'utf8'));
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
const parser = new XMLParser({ ignoreAttributes: false });

function ours() {
  let sink = 0;
  for (const t of texts) sink += serializeDomain(setCpuMode(parseDomain(t), 'host-model')).length;
  return sink;
}
function theirs() {
  let sink = 0;
  for (const t of texts) sink += Object.keys(parser.parse(t)).length;
  return sink;
}
const time = (fn) => { const t0 = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t0) / 1e6; };

for (let i = 0; i < 5; i++) { ours(); theirs(); } // warm up both
const a = [], b = [];
for (let i = 0; i < 15; i++) { a.push(time(ours)); b.push(time(theirs)); }
const oursMs = median(a), theirsMs = median(b);

// memory: keep every parsed and edited domain alive at once, measure what they hold
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const kept = texts.map((t) => { const d = parseDomain(t); return [d, setCpuMode(d, 'host-model')]; });
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const perDocument = (heapAfter - heapBefore) / kept.length / (bytes / texts.length);

report('library', [
  `corpus: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB`,
  `parse + setCpuMode + serialize: ${oursMs.toFixed(1)} ms (median of 15)`,
  `fast-xml-parser parse alone:    ${theirsMs.toFixed(1)} ms (median of 15)`,
  `ratio ours / fast-xml-parser: ${(oursMs / theirsMs).toFixed(2)} (target <= 1.25)`,
  `memory held per document (parsed + edited, both kept): ${perDocument.toFixed(2)}x its size (target <= 3x); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
]);
