#!/usr/bin/env node
// The `schema` rule's engine against its peer, in one run: `loadDomainSchema()` once and `validate()` per
// file, vs `virt-xml-validate FILE domain` once per file (a shell script running xmllint). Prints time per
// file for both, the ratio, the count of disagreeing verdicts (must be 0), and the process's RSS across
// repeated passes over the corpus (flat means validate() frees what it allocates).
//
//   node --expose-gc bench/schema-vs-virt-xml-validate.mjs [--jobs N] [--passes N] [--json] [DIR]
//
// DIR defaults to fixtures/libvirt-9.0.0/domains; the engine is read from dist/lib (npm run
// build), or from the module named by VIRT_NESTED_SCHEMA_MODULE.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const DEFAULT_CORPUS = join(REPO, 'fixtures', 'libvirt-9.0.0', 'domains');

/**
 * Runs both sides over the `*.xml` files of `corpus` and returns the measurements.
 *
 * @example
 * const result = await benchSchema({ corpus: DEFAULT_CORPUS, jobs: 1, passes: 10 });
 * console.log(result.disagreements.length); // 0
 */
export async function benchSchema({ corpus = DEFAULT_CORPUS, jobs = 1, passes = 10 } = {}) {
  const modulePath = process.env.VIRT_NESTED_SCHEMA_MODULE ?? join(REPO, 'dist', 'lib', 'lint', 'schema.js');
  const { loadDomainSchema } = await import(pathToFileURL(modulePath).href);
  const files = readdirSync(corpus).filter((name) => name.endsWith('.xml')).sort().map((name) => join(corpus, name));
  const texts = files.map((file) => readFileSync(file, 'utf8'));

  const memory = (after) => {
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    return { after, rssMiB: round(rss / 1048576), heapMiB: round(heapUsed / 1048576) };
  };
  const rss = [memory('start')];
  let started = performance.now();
  const schema = await loadDomainSchema();
  if (schema === undefined) throw new Error('libvirt\'s schemas are missing from /usr/share/libvirt/schemas; install libvirt0');
  const loadMs = performance.now() - started;
  rss.push(memory('load'));
  const ours = [];
  const passMs = [];
  try {
    for (let pass = 1; pass <= passes; pass++) {
      started = performance.now();
      texts.forEach((text, i) => { ours[i] = schema.validate(text).length === 0; });
      passMs.push(performance.now() - started);
      // libxml2-wasm keeps each document's JS wrapper (a WeakRef target) until the current job ends; end it.
      await new Promise((next) => setImmediate(next));
      rss.push(memory(`pass ${pass}`));
    }
  } finally {
    schema.dispose();
  }
  rss.push(memory('dispose'));

  started = performance.now();
  const theirs = await mapLimited(files, jobs, virtXmlValidate);
  const theirsMs = performance.now() - started;

  const disagreements = files.filter((_, i) => ours[i] !== theirs[i]);
  const oursPerFileMs = Math.min(...passMs.slice(1).concat(passMs[0])) / files.length;
  const theirsPerFileMs = theirsMs / files.length;
  return {
    files: files.length,
    rejectedByVirtXmlValidate: theirs.filter((valid) => !valid).length,
    rejectedByUs: ours.filter((valid) => !valid).length,
    disagreements,
    loadMs: round(loadMs),
    firstPassMs: round(passMs[0]),
    oursPerFileMs: round(oursPerFileMs, 3),
    virtXmlValidatePerFileMs: round(theirsPerFileMs, 3),
    virtXmlValidateJobs: jobs,
    ratio: round(theirsPerFileMs / oursPerFileMs, 1),
    rss,
  };
}

function round(value, digits = 1) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function virtXmlValidate(file) {
  return new Promise((done, fail) => {
    execFile('virt-xml-validate', [file, 'domain'], (error) => {
      if (error && typeof error.code !== 'number') fail(error);
      else done(!error);
    });
  });
}

async function mapLimited(items, limit, work) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    options: { jobs: { type: 'string', default: '1' }, passes: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const result = await benchSchema({ corpus: positionals[0] ?? DEFAULT_CORPUS, jobs: Number(values.jobs), passes: Number(values.passes) });
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`schema: ${result.files} files, virt-xml-validate rejects ${result.rejectedByVirtXmlValidate}, we reject ${result.rejectedByUs}, disagreements ${result.disagreements.length}${result.disagreements.length ? ` (${result.disagreements.join(', ')})` : ''}`);
    console.log(`schema: load ${result.loadMs} ms once; validate ${result.oursPerFileMs} ms/file vs virt-xml-validate ${result.virtXmlValidatePerFileMs} ms/file (${result.virtXmlValidateJobs} at a time): ${result.ratio}x`);
    console.log(`schema: RSS/heap MiB ${result.rss.map(({ after, rssMiB, heapMiB }) => `${after} ${rssMiB}/${heapMiB}`).join(', ')}`);
  }
  if (result.disagreements.length > 0) process.exitCode = 1;
}
