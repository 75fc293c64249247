import { VirtNestedError, type ErrorReport } from '../errors.js';
import { EXIT_OK, exitCodeFor } from './exit-codes.js';
import { setCpuMode, type SetCpuModeOptions } from '../cpu/set-cpu-mode.js';
import { parseDomain } from '../domain/parse-domain.js';
import { serializeDomain } from '../domain/serialize-domain.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { readDomainFile, readDomainStream, type DomainFile } from '../fs/read-domain-file.js';
import { writeIfChanged } from '../fs/write-if-changed.js';
import { encodeXml } from '../xml/encoding.js';
import type { CliIo } from './io.js';

/** What `set-cpu --file … --json` prints when the edit failed or was refused. */
export interface FileEditFailure {
  readonly schemaVersion: 1;
  readonly file: string;
  readonly changed: false;
  readonly written: false;
  readonly error: ErrorReport;
}

/** What `set-cpu --file … --json` prints (`schemas/set-cpu-file.schema.json`). */
export interface FileEditResult {
  readonly schemaVersion: 1;
  readonly file: string;
  readonly mode: CpuMode;
  readonly changed: boolean;
  readonly written: boolean;
  readonly before: DomainCpu | null;
  readonly after: DomainCpu | null;
  readonly warnings: readonly string[];
}

/** What `-` is called in messages. */
const STDIN_NAME = '<stdin>';

async function readInput(path: string, io: CliIo): Promise<DomainFile> {
  if (path !== '-') return readDomainFile(path);
  if (!io.stdin) throw new VirtNestedError('USAGE', "--file - reads standard input, which this caller did not give");
  return readDomainStream(io.stdin(), STDIN_NAME);
}

/**
 * `virt-nested set-cpu --file PATH|- [--mode M] [--nested on|off] [--write | --diff] [--json]`: no
 * libvirt needed. `mode` undefined is host-model. The file is read and written back in its own
 * encoding; `--write` replaces it only while it still holds the bytes read.
 */
export async function runFile(path: string, mode: CpuMode | undefined, options: Record<string, unknown>, io: CliIo): Promise<number> {
  if (!options['json']) return editFile(path, mode, options, io);
  try {
    return await editFile(path, mode, options, io);
  } catch (error) {
    if (!(error instanceof VirtNestedError)) throw error;
    // one JSON document on stdout, also for a refusal; the sentence on stderr as ever
    const failure: FileEditFailure = { schemaVersion: 1, file: path === '-' ? STDIN_NAME : path, changed: false, written: false, error: { code: error.code, message: error.message } };
    io.stdout(`${JSON.stringify(failure, null, 2)}\n`);
    io.stderr(`virt-nested: ${error.message}\n`);
    return exitCodeFor(error);
  }
}

async function editFile(path: string, mode: CpuMode | undefined, options: Record<string, unknown>, io: CliIo): Promise<number> {
  if (options['write'] && options['diff']) throw new VirtNestedError('USAGE', '--write and --diff cannot be combined; pick one');
  if (options['write'] && path === '-') throw new VirtNestedError('USAGE', '--write cannot write back standard input; leave it out to get the edited XML on stdout');
  const cpuMode: CpuMode = mode ?? 'host-model';
  const name = path === '-' ? STDIN_NAME : path;
  const input = await readInput(path, io);
  const domain = parseDomain(input.text, { file: name });
  const nested = options['nested'] as 'on' | 'off' | undefined;
  // `nested` is setCpuMode's own option (see cpu/); passed through untouched
  const next = setCpuMode(domain, cpuMode, (nested === undefined ? {} : { nested }) as SetCpuModeOptions);
  const edited = serializeDomain(next);
  const changed = edited !== input.text;
  // encoded first: a character the file's encoding cannot hold refuses the edit before anything is written
  const bytes = encodeXml(edited, input.encoding, name);
  const written = options['write'] ? await writeIfChanged(path, bytes, { expected: input.bytes }) : false;
  const warnings = next.warnings.map((w) => w.message);
  if (options['json']) {
    const result: FileEditResult = { schemaVersion: 1, file: name, mode: cpuMode, changed, written, before: domain.cpu ?? null, after: next.cpu ?? null, warnings };
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  if (options['diff']) {
    const { createTwoFilesPatch } = await import('diff');
    // a plain unified diff (`---`/`+++` first), as `diff -u` and `git apply` expect
    if (changed) io.stdout(createTwoFilesPatch(name, name, input.text, edited, undefined, undefined, { context: 3 }).replace(/^[^]*?(?=^--- )/m, ''));
  } else if (options['write']) {
    io.stdout(changed ? `${path}: <cpu> set to mode='${cpuMode}' check='partial'\n` : `${path}: already mode='${cpuMode}' check='partial'; unchanged\n`);
  } else if (io.stdoutBytes) {
    // the file's own bytes: an ISO-8859-1 template stays ISO-8859-1, as its declaration says
    io.stdoutBytes(bytes);
  } else {
    io.stdout(edited);
  }
  return EXIT_OK;
}
