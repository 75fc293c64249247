import { documentOf } from './document-of.js';
import type { Domain } from './types.js';

/**
 * The domain's XML text. For a domain from `parseDomain` that was not edited, this is the input,
 * byte for byte (BOM, declaration, comments, newlines, quotes all kept); after `setCpuMode`, only the
 * bytes of `<cpu>` differ.
 *
 * @example
 * serializeDomain(parseDomain(text)) === text // true
 */
export function serializeDomain(domain: Domain): string {
  return documentOf(domain).source;
}
