import { DomainXmlError, type ErrorCode } from '../errors.js';
import { documentOf } from '../domain/document-of.js';
import { parseDomain } from '../domain/parse-domain.js';
import type { Domain } from '../domain/types.js';
import { lineColumnAt } from '../xml/line-column.js';
import type { XmlDocument, XmlElement } from '../xml/scan.js';
import type { LintProblem } from './problem.js';
import { DOMAIN_RULES, type RuleContext } from './rules.js';
import { suppressionsOf } from './suppress.js';

/** What validates a document against libvirt's schema (see `schema.ts`). */
export interface SchemaValidator {
  /** The schema's problems in `xml`, each at a 1-based line and column; none when it is valid. */
  validate(xml: string): ReadonlyArray<{ readonly line: number; readonly column: number; readonly message: string; readonly path?: string }>;
}

/**
 * The element that libxml2's XPath (`/domain/devices/disk[2]`) names, found in our own scan: libxml2
 * gives validity errors a line but no column, and its lines stop counting at 65535.
 */
function elementAtPath(doc: XmlDocument, path: string): XmlElement | undefined {
  const steps = path.split('/').filter(Boolean);
  const first = steps.shift();
  if (first !== doc.root.name) return undefined;
  let element: XmlElement | undefined = doc.root;
  for (const step of steps) {
    const m = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(step);
    if (!m || !element) return undefined;
    const index = Number(m[2] ?? 1);
    element = element.children.filter((c) => c.name === m[1])[index - 1];
  }
  return element;
}

/** Options of {@link lintText}. */
export interface LintTextOptions extends Partial<RuleContext> {
  /** The file name put on each problem. */
  readonly file?: string;
  /** Validate against this schema; none: skip the schema rule. */
  readonly schema?: SchemaValidator;
  /** Refuse input larger than this many bytes (default 10 MiB). */
  readonly maxBytes?: number;
}

const XML_ERROR_RULES: Partial<Record<ErrorCode, string>> = {
  XML_DOCTYPE: 'doctype-forbidden',
  XML_NOT_DOMAIN: 'not-a-domain',
};

/** The result of linting one text: its problems, and the domain when it parsed. */
export interface LintTextResult {
  readonly problems: LintProblem[];
  readonly domain: Domain | undefined;
}

/**
 * Lints one domain XML text: well-formed, a `<domain>`, valid against the schema (when given), and
 * giving its guest nested virtualization. Problems come in line order.
 *
 * @example
 * lintText(xml, { file: 'web.xml', requireMode: 'host-model' }).problems
 * // [{ file: 'web.xml', line: 1, column: 1, rule: 'cpu-missing', severity: 'error', message: '…' }]
 */
export function lintText(text: string, options: LintTextOptions = {}): LintTextResult {
  const file = options.file ?? '<input>';
  let domain: Domain;
  try {
    domain = parseDomain(text, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  } catch (error) {
    if (!(error instanceof DomainXmlError)) throw error;
    const rule = XML_ERROR_RULES[error.code] ?? 'xml-malformed';
    return { problems: [{ file, line: error.line, column: error.column, rule, severity: 'error', message: error.message }], domain: undefined };
  }
  const problems: LintProblem[] = [];
  const doc = documentOf(domain);
  if (options.schema) {
    for (const p of options.schema.validate(text)) {
      const element = p.path === undefined ? undefined : elementAtPath(doc, p.path);
      const at = element ? lineColumnAt(doc.source, element.start) : p;
      problems.push({ file, line: at.line, column: at.column, rule: 'schema', severity: 'error', message: p.message });
    }
  }
  const context: RuleContext = { requireMode: options.requireMode ?? 'any' };
  for (const rule of DOMAIN_RULES) {
    for (const f of rule.check(domain, context)) {
      problems.push({ file, line: f.line, column: f.column, rule: rule.id, severity: rule.severity, message: f.message });
    }
  }
  const suppressions = suppressionsOf(doc.source, doc.comments);
  const kept = problems.filter((p) => !suppressions.isSuppressed(p.rule, p.line));
  kept.sort((a, b) => a.line - b.line || a.column - b.column);
  return { problems: kept, domain };
}
