import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtNestedError } from '../errors.js';
import { setCpuMode } from '../cpu/set-cpu-mode.js';
import { serializeDomain } from '../domain/serialize-domain.js';
import type { CpuMode } from '../domain/types.js';
import { readDomainFile, readDomainStream, type DomainFile } from '../fs/read-domain-file.js';
import { writeIfChanged } from '../fs/write-if-changed.js';
import { encodeXml } from '../xml/encoding.js';
import type { LintProblem } from './problem.js';
import { lintText, type SchemaValidator } from './lint-text.js';

/** Options of {@link lintPaths}. */
export interface LintPathsOptions {
  readonly requireMode?: CpuMode | 'any';
  readonly schema?: SchemaValidator;
  /** Apply setCpuMode to files with a CPU problem and write them back atomically. */
  readonly fix?: boolean;
  /** What the path `-` reads (standard input in the CLI); without it, `-` is a usage error. */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
}

/**
 * A file that `fix` did not rewrite, and why (it changed while lint ran, or it cannot be written).
 *
 * @example
 * report.notFixed // [{ file: 'web.xml', message: 'web.xml changed after it was read (…), so it was not written; …' }]
 */
export interface LintNotFixed {
  readonly file: string;
  readonly message: string;
}

/**
 * What `-` is called in problems and messages.
 *
 * @example
 * report.problems[0]?.file === STDIN_NAME // for `virt-nested lint -`
 */
export const STDIN_NAME = '<stdin>';

/** What `lint` found: the number of files read and every problem. The shape `--format json` prints. */
export interface LintReport {
  readonly files: number;
  readonly problems: LintProblem[];
  /** Files that `fix` rewrote. */
  readonly fixed: string[];
  /** Files that `fix` would have rewritten but did not (their problems stay in `problems`). */
  readonly notFixed: LintNotFixed[];
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
const FIXABLE = new Set(['cpu-missing', 'cpu-mode', 'cpu-check']);
/** How many files are read ahead of the one being linted. */
const READ_AHEAD = 8;

/** A file's bytes and text, or why it cannot be linted (never a rejection: reads ahead may fail before their turn). */
function readEntry(file: string, stdin: LintPathsOptions['stdin']): Promise<DomainFile | VirtNestedError> {
  const read = file === '-' && stdin ? readDomainStream(stdin, STDIN_NAME) : readDomainFile(file);
  return read.catch((error: unknown) => (error instanceof VirtNestedError ? error : new VirtNestedError('FILE_UNREADABLE', `cannot read ${file}: ${String(error)}`)));
}

/**
 * The `*.xml` entries under `paths` (files as given, directories walked, `node_modules` and `.git`
 * skipped), sorted; `-` stands for standard input. Entries that are not regular files (a FIFO, a
 * symlink to a directory) are listed too: linting reports them as problems of their own. A path that
 * does not exist, and a directory with no `*.xml` in it, are usage errors naming the path.
 *
 * @example
 * await domainXmlFiles(['templates/']) // ['templates/a.xml', 'templates/sub/b.xml']
 */
export async function domainXmlFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) await walk(path);
      } else if (entry.name.endsWith('.xml')) files.push(path);
    }
  };
  for (const path of paths) {
    if (path === '-') {
      files.push(path);
      continue;
    }
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new VirtNestedError('USAGE', `${path} does not exist`);
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const before = files.length;
    await walk(path);
    if (files.length === before) throw new VirtNestedError('USAGE', `${path} holds no domain XML (no *.xml file in it or below it); name a directory of templates or the files themselves`);
  }
  return files;
}

/** The problem of a file that cannot be linted at all. */
function unreadable(file: string, error: VirtNestedError): LintProblem {
  return { file, line: 1, column: 1, rule: 'file-unreadable', severity: 'error', message: error.message };
}

/**
 * Lints every domain XML file under `paths`. A file that cannot be read (not a regular file, too
 * large, not decodable) is a `file-unreadable` problem of that file, and the run goes on.
 *
 * @example
 * const report = await lintPaths(['templates/'], { requireMode: 'host-model' });
 * report.problems.filter((p) => p.severity === 'error').length
 */
export async function lintPaths(paths: readonly string[], options: LintPathsOptions = {}): Promise<LintReport> {
  if (paths.includes('-') && !options.stdin) throw new VirtNestedError('USAGE', "'-' (standard input) can be linted only from the command line");
  if (paths.filter((p) => p === '-').length > 1) throw new VirtNestedError('USAGE', "'-' (standard input) can be named only once");
  if (options.fix && paths.includes('-')) throw new VirtNestedError('USAGE', "--fix cannot write back standard input; use 'virt-nested set-cpu --file - --mode MODE' to print the fixed XML");
  const files = await domainXmlFiles(paths);
  const problems: LintProblem[] = [];
  const fixed: string[] = [];
  const notFixed: LintNotFixed[] = [];
  const rewritten = new Set<string>();
  // Files are read a few ahead of the one being linted, so that linting (all CPU) never waits for the disk.
  const ahead: Array<Promise<DomainFile | VirtNestedError>> = [];
  let next = 0;
  for (const file of files) {
    while (next < files.length && ahead.length < READ_AHEAD) ahead.push(readEntry(files[next++] as string, options.stdin));
    let read = await (ahead.shift() as Promise<DomainFile | VirtNestedError>);
    const name = file === '-' ? STDIN_NAME : file;
    // a file named twice was read ahead before its first turn rewrote it
    if (rewritten.has(file)) read = await readEntry(file, options.stdin);
    if (read instanceof VirtNestedError) {
      problems.push(unreadable(name, read));
      continue;
    }
    const textOptions = { file: name, requireMode: options.requireMode ?? 'any', ...(options.schema ? { schema: options.schema } : {}) } as const;
    let result = lintText(read.text, textOptions);
    if (options.fix && result.domain && result.problems.some((p) => FIXABLE.has(p.rule))) {
      const current = result.domain.cpu?.mode;
      const mode: CpuMode = options.requireMode && options.requireMode !== 'any'
        ? options.requireMode
        : current === 'host-passthrough' ? 'host-passthrough' : 'host-model';
      const edited = serializeDomain(setCpuMode(result.domain, mode));
      try {
        // written only while the file still holds the bytes linted: a concurrent edit is never overwritten
        if (await writeIfChanged(file, encodeXml(edited, read.encoding, file), { expected: read.bytes })) {
          fixed.push(file);
          rewritten.add(file);
        }
        result = lintText(edited, textOptions);
      } catch (error) {
        if (!(error instanceof VirtNestedError)) throw error;
        notFixed.push({ file, message: error.message });
      }
    }
    problems.push(...result.problems);
  }
  return { files: files.length, problems, fixed, notFixed };
}
