/**
 * The scanned document behind each `Domain`. Kept beside the model rather than on it, so the model
 * stays a plain frozen value (printable as JSON) while edits and lint still reach the source offsets.
 */
import type { XmlDocument } from '../xml/document.js';
import type { Domain } from './types.js';

const documents = new WeakMap<Domain, XmlDocument>();

/** Records the document a domain was built from. */
export function attachDocument(domain: Domain, doc: XmlDocument): void {
  documents.set(domain, doc);
}

/**
 * The scanned document behind `domain`.
 *
 * @example
 * documentOf(parseDomain(text)).source === text // true
 */
export function documentOf(domain: Domain): XmlDocument {
  const doc = documents.get(domain);
  if (!doc) throw new TypeError('not a Domain from parseDomain (build one with parseDomain(xml))');
  return doc;
}
