/**
 * The engine of lint's `schema` rule: libvirt's own RelaxNG schema (`domain.rng` and the files it
 * includes), compiled once by libxml2 (as WebAssembly, in this process) and applied to many documents.
 * Its verdicts are those of `virt-xml-validate FILE domain`, which runs libxml2's `xmllint --relaxng`
 * on the same schema; `__tests__/lint/schema.test.ts` proves it on libvirt's own test corpus.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RelaxNGValidator, ErrorDetail } from 'libxml2-wasm';
import { VirtNestedError } from '../errors.js';
import { importLibxml2, type Libxml2 } from './import-libxml2.js';
import { readingSchemaFiles } from './schema-files.js';

/**
 * Where Debian's `libvirt0` installs libvirt's RelaxNG schemas (and where `virt-xml-validate` reads them).
 *
 * @example
 * const schema = await loadDomainSchema(DEFAULT_SCHEMA_DIR);
 */
export const DEFAULT_SCHEMA_DIR = '/usr/share/libvirt/schemas';

/**
 * One complaint of libxml2's RelaxNG validator: a 1-based line (of the element libxml2 blames), a
 * column (1 when libxml2 gives none, as it does for validity errors), libxml2's own text on one line,
 * and, for validity errors, libxml2's XPath of the blamed element, with which a caller that has its own
 * scan of the document can point at the element's exact column.
 *
 * @example
 * const problem: SchemaProblem = { line: 5, column: 1, message: 'Element domain failed to validate content', path: '/domain/cpu' };
 */
export interface SchemaProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** libxml2's XPath of the element it blames (`/domain/devices/disk[2]`); absent for parse errors. */
  readonly path?: string;
}

/**
 * libvirt's domain schema, compiled once; validate as many documents as you like, then `dispose()`
 * (the compiled schema lives in WebAssembly memory, which the garbage collector does not see).
 *
 * @example
 * const schema = await loadDomainSchema();
 * if (schema) {
 *   try { for (const xml of templates) console.log(schema.validate(xml)); } finally { schema.dispose(); }
 * }
 */
export interface DomainSchema {
  /** The absolute directory `domain.rng` was loaded from. */
  readonly dir: string;
  /**
   * The problems libxml2 finds in `xml` against `domain.rng`; an empty array when it is valid. A document
   * that is not well-formed XML gives libxml2's parse errors (with their columns) instead. Entities are
   * never expanded and no DTD or other file is loaded.
   */
  validate(xml: string): SchemaProblem[];
  /** Frees the compiled schema; `validate` throws afterwards. Calling it twice is harmless. */
  dispose(): void;
}

/** The file `virt-xml-validate FILE domain` validates against, relative to the schema directory. */
const DOMAIN_SCHEMA_FILE = 'domain.rng';

/**
 * Loads and compiles `<dir>/domain.rng`, reading the files it includes from `dir` only. Resolves to
 * `undefined` when `dir` or its `domain.rng` does not exist (the caller says so once and skips the
 * rule); rejects with a `USAGE` {@link VirtNestedError} when the schema cannot be read or compiled.
 * libxml2-wasm's WebAssembly is loaded here, on first use, not when this module is imported.
 *
 * @example
 * const schema = await loadDomainSchema('/usr/share/libvirt/schemas');
 * schema?.validate("<domain type='nonsense'/>"); // [{ line: 1, column: 1, message: 'Element domain failed to validate content', path: '/domain' }]
 */
export async function loadDomainSchema(dir: string = DEFAULT_SCHEMA_DIR): Promise<DomainSchema | undefined> {
  const root = resolve(dir);
  const file = join(root, DOMAIN_SCHEMA_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new VirtNestedError('USAGE', `cannot read libvirt's schema ${file} (${(error as Error).message}); check its permissions or pass another --schema-dir.`, { cause: error });
  }
  const libxml2 = await importLibxml2();
  const validator = compileSchema(libxml2, root, file, bytes);
  return schemaOf(libxml2, root, validator);
}

function compileSchema(libxml2: Libxml2, root: string, file: string, bytes: Buffer): RelaxNGValidator {
  try {
    return readingSchemaFiles(libxml2, root, () => {
      const rng = libxml2.XmlDocument.fromBuffer(bytes, { url: file, option: parseOptions(libxml2) });
      try {
        // libxml2 compiles from its own copy of the document, so the parsed schema can go at once.
        return libxml2.RelaxNGValidator.fromDoc(rng);
      } finally {
        rng.dispose();
      }
    });
  } catch (error) {
    if (!(error instanceof libxml2.XmlError)) throw error;
    const reason = error instanceof libxml2.XmlLibError ? firstMessage(error.details) ?? error.message : error.message;
    throw new VirtNestedError('USAGE', `libvirt's schema ${file} cannot be compiled (${oneLine(reason)}); reinstall libvirt0 or pass a --schema-dir that holds an intact domain.rng.`, { cause: error });
  }
}

function schemaOf(libxml2: Libxml2, dir: string, validator: RelaxNGValidator): DomainSchema {
  let disposed = false;
  const documentOptions = { encoding: 'utf-8', option: parseOptions(libxml2) };
  return {
    dir,
    validate(xml) {
      if (disposed) throw new VirtNestedError('USAGE', `the domain schema from ${dir} was disposed; load it again with loadDomainSchema().`);
      let document;
      try {
        // The caller's string is already decoded text, so an encoding in its XML declaration must not re-decode it.
        document = libxml2.XmlDocument.fromString(xml, documentOptions);
      } catch (error) {
        if (!(error instanceof libxml2.XmlLibError)) throw error;
        return problemsOf(error.details.filter((detail) => detail.level >= ERROR_LEVEL), error.message);
      }
      try {
        validator.validate(document);
        return [];
      } catch (error) {
        if (error instanceof libxml2.XmlLibError) return problemsOf(error.details, error.message);
        if (error instanceof libxml2.XmlError) return problemsOf([], error.message);
        throw error;
      } finally {
        document.dispose();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      validator.dispose();
    },
  };
}

/** libxml2's xmlErrorLevel for an error; 1 is a warning, which decides nothing. */
const ERROR_LEVEL = 2;

/**
 * For documents and the schema alike (its `<include>`s are RelaxNG's, not XML entities): no network,
 * no external DTD or entity, entities never substituted, line numbers past 65535 kept.
 */
function parseOptions(libxml2: Libxml2): number {
  const { ParseOption } = libxml2;
  return ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES;
}

/**
 * One problem per libxml2 diagnostic. Some RelaxNG errors carry no line or path ("Extra element cpu
 * in interleave"); libxml2 reports them just before the located error they explain, so they take that
 * error's line and path (else the previous one's, else line 1).
 */
function problemsOf(details: readonly ErrorDetail[], fallback: string): SchemaProblem[] {
  const located = details.map((detail) => (detail.line > 0 ? { line: detail.line, path: detail.xpath } : undefined));
  for (let i = located.length - 2; i >= 0; i--) located[i] ??= located[i + 1];
  for (let i = 1; i < located.length; i++) located[i] ??= located[i - 1];
  const problems = details
    .map((detail, i): SchemaProblem => {
      const { line = 1, path = undefined } = located[i] ?? {};
      const problem = { line, column: detail.col > 0 ? detail.col : 1, message: oneLine(detail.message) };
      return path === undefined ? problem : { ...problem, path };
    })
    .filter((problem) => problem.message !== '');
  // A failed verdict must never read as "valid", even if libxml2 said nothing about why.
  return problems.length > 0 ? problems : [{ line: 1, column: 1, message: oneLine(fallback) || 'document failed to validate against domain.rng' }];
}

function firstMessage(details: readonly ErrorDetail[]): string | undefined {
  return details.find((detail) => detail.level >= ERROR_LEVEL)?.message ?? details[0]?.message;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
