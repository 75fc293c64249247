#!/usr/bin/env node
// Gives every domain XML template in a directory a CPU that exposes virtualization to the guest:
// <cpu mode='host-model' check='partial'/> (or host-passthrough). Only <cpu> changes in each file;
// files that are already right are not touched, files that are not domain XML are reported.
//
//   node set-cpu-templates.mjs DIR [host-model|host-passthrough]
//
// Exit code 0 when every template is right now, 1 when some file could not be used, 2 for a usage error.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainXmlError, parseDomain, serializeDomain, setCpuMode } from 'virt-nested';

const USAGE = 'usage: node set-cpu-templates.mjs DIR [host-model|host-passthrough] gives every domain XML template in DIR a CPU that exposes virtualization (default host-model).';
const [dir, mode = 'host-model', ...extra] = process.argv.slice(2);
if (dir === undefined || extra.length > 0 || !['host-model', 'host-passthrough'].includes(mode)) {
  console.error(USAGE);
  process.exit(2);
}
const describe = (cpu) => (cpu ? `mode='${cpu.mode ?? 'custom'}' check='${cpu.check ?? ''}'` : 'no <cpu>');

let unusable = 0;
let entries;
try {
  entries = await readdir(dir);
} catch (error) {
  console.error(`${dir}: cannot read this directory (${error.code}); ${USAGE}`);
  process.exit(2);
}
const names = entries.filter((name) => name.endsWith('.xml')).sort();
for (const name of names) {
  const path = join(dir, name);
  const text = await readFile(path, 'utf8');
  let domain;
  try {
    domain = parseDomain(text, { file: path });
  } catch (error) {
    // malformed XML, a DOCTYPE, or not a <domain>: the message names the file, line and column
    if (!(error instanceof DomainXmlError)) throw error;
    console.error(`${error.code}: ${error.message}`);
    unusable++;
    continue;
  }
  const next = setCpuMode(domain, mode);
  for (const warning of next.warnings) console.error(`${path}: warning: ${warning.message}`);
  const edited = serializeDomain(next);
  if (edited === text) {
    console.log(`${path}: already ${describe(domain.cpu)}`);
    continue;
  }
  // a temporary file and a rename: a crash leaves the old template or the new one, never half of one
  const temporary = join(dir, `.${name}.${process.pid}.tmp`);
  await writeFile(temporary, edited);
  await rename(temporary, path);
  console.log(`${path}: ${describe(next.cpu)} (was ${describe(domain.cpu)})`);
}
process.exitCode = unusable > 0 ? 1 : 0;
