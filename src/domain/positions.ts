/**
 * Where the parts of a domain that lint points at stand in its source, declared once beside the
 * model, so that rules read positions instead of walking the scan. Kept beside the model (like its
 * document) so that the model stays a plain frozen value.
 */
import type { LineColumn } from '../xml/line-column.js';
import { documentOf } from './document-of.js';
import type { Domain } from './types.js';

/**
 * The positions of the top-level `<cpu>`: the element, each of its attributes by name, and each
 * `<feature>` child in the order of `domain.cpu.features`.
 *
 * @example
 * positionsOf(domain).cpu?.attributes['mode'] // { line: 8, column: 8 }
 */
export interface CpuPositions {
  readonly element: LineColumn;
  readonly attributes: Readonly<Record<string, LineColumn>>;
  readonly features: readonly LineColumn[];
}

/**
 * The positions of a domain's parts (1-based lines and columns of their first character).
 *
 * @example
 * const { root, cpu } = positionsOf(parseDomain(text));
 */
export interface DomainPositions {
  /** The `<domain>` start tag. */
  readonly root: LineColumn;
  /** The top-level `<cpu>`, when there is one. */
  readonly cpu: CpuPositions | undefined;
}

const positions = new WeakMap<Domain, DomainPositions>();

/**
 * The positions of `domain`'s parts, found once per domain.
 *
 * @example
 * positionsOf(parseDomain("<domain>\n  <cpu mode='custom'/>\n</domain>")).cpu?.attributes['mode'] // { line: 2, column: 8 }
 */
export function positionsOf(domain: Domain): DomainPositions {
  let found = positions.get(domain);
  if (found === undefined) {
    const doc = documentOf(domain);
    const cpu = doc.root.children.find((c) => c.name === 'cpu');
    const at = (offset: number) => doc.lineColumnAt(offset);
    found = Object.freeze({
      root: at(doc.root.start),
      cpu: cpu === undefined ? undefined : Object.freeze({
        element: at(cpu.start),
        attributes: Object.freeze(Object.fromEntries(cpu.attributes.map((a) => [a.name, at(a.start)]))),
        // the same children, in the same order, as the model's `cpu.features`
        features: Object.freeze(cpu.children.filter((c) => c.name === 'feature').map((f) => at(f.start))),
      }),
    });
    positions.set(domain, found);
  }
  return found;
}
