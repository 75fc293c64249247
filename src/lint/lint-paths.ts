import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtNestedError } from '../errors.js';
import { setCpuMode } from '../cpu/set-cpu-mode.js';
import { serializeDomain } from '../domain/serialize-domain.js';
import type { CpuMode } from '../domain/types.js';
import { writeIfChanged } from '../fs/write-if-changed.js';
import type { LintProblem } from './problem.js';
import { lintText, type SchemaValidator } from './lint-text.js';

/** Options of {@link lintPaths}. */
export interface LintPathsOptions {
  readonly requireMode?: CpuMode | 'any';
  readonly schema?: SchemaValidator;
  /** Apply setCpuMode to files with a CPU problem and write them back atomically. */
  readonly fix?: boolean;
}

/** What `lint` found: the number of files read and every problem. The shape `--format json` prints. */
export interface LintReport {
  readonly files: number;
  readonly problems: LintProblem[];
  /** Files that `fix` rewrote. */
  readonly fixed: string[];
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
const FIXABLE = new Set(['cpu-missing', 'cpu-mode', 'cpu-check']);
/** How many files are read ahead of the one being linted. */
const READ_AHEAD = 8;

/** Why a file could not be read: the file system's error code. */
interface ReadFailure {
  readonly code: string;
}

/** A file's text, or why it could not be read (never a rejection: reads ahead may fail before their turn). */
function readText(file: string): Promise<string | ReadFailure> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => ({ code: error.code ?? String(error) }));
}

/**
 * The `*.xml` files under `paths` (files as given, directories walked, `node_modules` and `.git`
 * skipped), sorted. A path that does not exist is a usage error.
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
      } else if (entry.name.endsWith('.xml') && (entry.isFile() || entry.isSymbolicLink())) files.push(path);
    }
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new VirtNestedError('USAGE', `${path} does not exist`);
    }
    if (info.isDirectory()) await walk(path);
    else files.push(path);
  }
  return files;
}

/**
 * Lints every domain XML file under `paths`.
 *
 * @example
 * const report = await lintPaths(['templates/'], { requireMode: 'host-model' });
 * report.problems.filter((p) => p.severity === 'error').length
 */
export async function lintPaths(paths: readonly string[], options: LintPathsOptions = {}): Promise<LintReport> {
  const files = await domainXmlFiles(paths);
  const problems: LintProblem[] = [];
  const fixed: string[] = [];
  // Files are read a few ahead of the one being linted, so that linting (all CPU) never waits for the disk.
  const ahead: Array<Promise<string | ReadFailure>> = [];
  let next = 0;
  for (const file of files) {
    while (next < files.length && ahead.length < READ_AHEAD) ahead.push(readText(files[next++] as string));
    const text = await (ahead.shift() as Promise<string | ReadFailure>);
    if (typeof text !== 'string') {
      throw new VirtNestedError('FILE_UNREADABLE', `cannot read ${file} (${text.code})`);
    }
    const textOptions = { file, requireMode: options.requireMode ?? 'any', ...(options.schema ? { schema: options.schema } : {}) } as const;
    let result = lintText(text, textOptions);
    if (options.fix && result.domain && result.problems.some((p) => FIXABLE.has(p.rule))) {
      const current = result.domain.cpu?.mode;
      const mode: CpuMode = options.requireMode && options.requireMode !== 'any'
        ? options.requireMode
        : current === 'host-passthrough' ? 'host-passthrough' : 'host-model';
      const edited = serializeDomain(setCpuMode(result.domain, mode));
      if (await writeIfChanged(file, edited)) fixed.push(file);
      result = lintText(edited, textOptions);
    }
    problems.push(...result.problems);
  }
  return { files: files.length, problems, fixed };
}
