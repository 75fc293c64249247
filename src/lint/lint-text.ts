import { DomainXmlError, type ErrorCode } from '../errors.js';
import { documentOf } from '../domain/document-of.js';
import { parseDomain } from '../domain/parse-domain.js';
import type { Domain } from '../domain/types.js';
import type { XmlDocument, XmlElement } from '../xml/document.js';
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
function elementAtPath(doc: XmlDocument, path: string, childrenOf: Map<number, readonly XmlElement[]>): XmlElement | undefined {
  const steps = path.split('/').filter(Boolean);
  const first = steps.shift();
  if (first !== doc.root.name) return undefined;
  let element: XmlElement | undefined = doc.root;
  for (const step of steps) {
    const m = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(step);
    if (!m || !element) return undefined;
    const index = Number(m[2] ?? 1);
    // each read of `children` builds the list anew: many problems among many siblings would be quadratic
    let children = childrenOf.get(element.start);
    if (children === undefined) childrenOf.set(element.start, (children = element.children));
    element = children.filter((c) => c.name === m[1])[index - 1];
  }
  return element;
}

/**
 * The child that libxml2's message names ("Extra element vcpu in interleave", blamed on `/domain`):
 * the problem is that child's, so it is reported at its line; else the blamed element itself.
 */
function namedElement(element: XmlElement | undefined, message: string, childrenOf: Map<number, readonly XmlElement[]>): XmlElement | undefined {
  const named = /\b(?:Extra element|Did not expect element|Expecting element [\w:.-]+, got|Element) ([\w:.-]+)/.exec(message)?.[1];
  if (element === undefined || named === undefined || named === element.name) return element;
  let children = childrenOf.get(element.start);
  if (children === undefined) childrenOf.set(element.start, (children = element.children));
  return children.find((c) => c.name === named) ?? element;
}

/**
 * The bound of the schema rule. libxml2's RelaxNG validation grows faster than the document (a
 * quarter of a million empty elements take minutes, ten thousand attributes on one element seconds),
 * so documents beyond it are reported (`schema-too-large`) instead of validated: lint answers every
 * file in seconds. libvirt's own test corpus stays far below it (at most 564 elements, 1,317
 * attributes, 30 KB).
 *
 * @example
 * Buffer.byteLength(xml) > SCHEMA_BOUND.bytes // reported as schema-too-large, not validated
 */
export const SCHEMA_BOUND = { bytes: 1024 * 1024, elements: 10_000, attributesOnOneElement: 1_000 } as const;
const SCHEMA_BOUND_TEXT = `1 MiB, ${SCHEMA_BOUND.elements.toLocaleString('en-US')} elements, ${SCHEMA_BOUND.attributesOnOneElement.toLocaleString('en-US')} attributes on one element`;

function schemaBoundExceeded(doc: XmlDocument, text: string): string | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > SCHEMA_BOUND.bytes) return `the document is ${bytes} bytes`;
  if (doc.counts.elements > SCHEMA_BOUND.elements) return `the document has ${doc.counts.elements} elements`;
  if (doc.counts.mostAttributes > SCHEMA_BOUND.attributesOnOneElement) return `an element of the document has ${doc.counts.mostAttributes} attributes`;
  return undefined;
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
    const tooLarge = schemaBoundExceeded(doc, text);
    if (tooLarge !== undefined) {
      problems.push({ file, line: 1, column: 1, rule: 'schema-too-large', severity: 'error', message: `${tooLarge}, over what the schema rule validates (${SCHEMA_BOUND_TEXT}), so it was not validated against libvirt's schema; domain XML is normally a few KiB (validate it with virt-xml-validate, or suppress this rule)` });
    } else {
      const childrenOf = new Map<number, readonly XmlElement[]>();
      for (const p of options.schema.validate(text)) {
        const element = p.path === undefined ? undefined : namedElement(elementAtPath(doc, p.path, childrenOf), p.message, childrenOf);
        const at = element ? doc.lineColumnAt(element.start) : p;
        problems.push({ file, line: at.line, column: at.column, rule: 'schema', severity: 'error', message: p.message });
      }
    }
  }
  const context: RuleContext = { requireMode: options.requireMode ?? 'any' };
  for (const rule of DOMAIN_RULES) {
    for (const f of rule.check(domain, context)) {
      problems.push({ file, line: f.line, column: f.column, rule: rule.id, severity: rule.severity, message: f.message });
    }
  }
  const suppressions = suppressionsOf(doc);
  const kept = problems.filter((p) => !suppressions.isSuppressed(p.rule, p.line));
  kept.sort((a, b) => a.line - b.line || a.column - b.column);
  return { problems: kept, domain };
}
