import { readFile } from 'node:fs/promises';
import { VirtNestedError, EXIT_OK } from '../errors.js';
import { setCpuMode } from '../cpu/set-cpu-mode.js';
import { parseDomain } from '../domain/parse-domain.js';
import { serializeDomain } from '../domain/serialize-domain.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { writeIfChanged } from '../fs/write-if-changed.js';
import type { CliIo } from './io.js';

/** What `set-cpu --file … --json` prints. */
export interface FileEditResult {
  readonly file: string;
  readonly mode: CpuMode;
  readonly changed: boolean;
  readonly written: boolean;
  readonly before: DomainCpu | null;
  readonly after: DomainCpu | null;
  readonly warnings: readonly string[];
}

async function readDomainFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code ?? String(error);
    throw new VirtNestedError('FILE_UNREADABLE', `cannot read ${path}: ${why}`);
  }
}

/** `virt-nested set-cpu --file PATH --mode M [--write | --diff] [--json]`: no libvirt needed. */
export async function runFile(path: string, mode: CpuMode, options: Record<string, unknown>, io: CliIo): Promise<number> {
  if (options['write'] && options['diff']) throw new VirtNestedError('USAGE', '--write and --diff cannot be combined; pick one');
  const text = await readDomainFile(path);
  const domain = parseDomain(text, { file: path });
  const next = setCpuMode(domain, mode);
  const edited = serializeDomain(next);
  const changed = edited !== text;
  const written = options['write'] ? await writeIfChanged(path, edited) : false;
  const warnings = next.warnings.map((w) => w.message);
  if (options['json']) {
    const result: FileEditResult = { file: path, mode, changed, written, before: domain.cpu ?? null, after: next.cpu ?? null, warnings };
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  if (options['diff']) {
    const { createTwoFilesPatch } = await import('diff');
    // a plain unified diff (`---`/`+++` first), as `diff -u` and `git apply` expect
    if (changed) io.stdout(createTwoFilesPatch(path, path, text, edited, undefined, undefined, { context: 3 }).replace(/^[^]*?(?=^--- )/m, ''));
  } else if (options['write']) {
    io.stdout(changed ? `${path}: <cpu> set to mode='${mode}' check='partial'\n` : `${path}: already mode='${mode}' check='partial'; unchanged\n`);
  } else {
    io.stdout(edited);
  }
  return EXIT_OK;
}
