/**
 * The model as a view on the scan: each field of a {@link Domain} is read from the source (by its
 * reader in `read-fields.ts`) when first asked for, then kept, frozen. Parsing a domain to edit its
 * `<cpu>` never builds the parts nobody reads.
 */
import type { XmlDocument } from '../xml/document.js';
import { attachDocument } from './document-of.js';
import { FIELD_READERS } from './read-fields.js';
import type { Domain, DomainWarning } from './types.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * A domain's warnings, or how to work them out from the domain itself (read when first asked for).
 *
 * @example
 * const warnings: WarningsOf = (edited) => warningsFor(edited, 'host-model', { nested: 'keep' });
 */
export type WarningsOf = readonly DomainWarning[] | ((domain: Domain) => readonly DomainWarning[]);

/** The fields of `Domain`, in the order `toJSON` writes them. */
const DOMAIN_FIELDS = [
  'type', 'name', 'uuid', 'title', 'description', 'memory', 'currentMemory', 'vcpu', 'os', 'features', 'cpu', 'devices', 'warnings',
] as const;

class DomainView implements Domain {
  readonly #doc: XmlDocument;
  readonly #warnings: WarningsOf;
  readonly #cache = new Map<string, unknown>();

  constructor(doc: XmlDocument, warnings: WarningsOf) {
    this.#doc = doc;
    this.#warnings = warnings;
    Object.freeze(this);
  }

  #get<K extends keyof typeof FIELD_READERS>(field: K): Domain[K] {
    if (!this.#cache.has(field)) this.#cache.set(field, deepFreeze(FIELD_READERS[field](this.#doc, this.#doc.root)));
    return this.#cache.get(field) as Domain[K];
  }

  get type() { return this.#get('type'); }
  get name() { return this.#get('name'); }
  get uuid() { return this.#get('uuid'); }
  get title() { return this.#get('title'); }
  get description() { return this.#get('description'); }
  get memory() { return this.#get('memory'); }
  get currentMemory() { return this.#get('currentMemory'); }
  get vcpu() { return this.#get('vcpu'); }
  get os() { return this.#get('os'); }
  get features() { return this.#get('features'); }
  get cpu() { return this.#get('cpu'); }
  get devices() { return this.#get('devices'); }
  get warnings(): readonly DomainWarning[] {
    if (!this.#cache.has('warnings')) {
      this.#cache.set('warnings', deepFreeze([...(typeof this.#warnings === 'function' ? this.#warnings(this) : this.#warnings)]));
    }
    return this.#cache.get('warnings') as readonly DomainWarning[];
  }

  /** Every field, for `JSON.stringify(domain)`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of DOMAIN_FIELDS) out[field] = this[field];
    return out;
  }
}

/**
 * Builds the model of a scanned document whose root is `<domain>`, with `warnings`.
 * Internal: `parseDomain` and `setCpuMode` share it.
 *
 * @example
 * const domain = domainOf(scanXml(xml), []);
 */
export function domainOf(doc: XmlDocument, warnings: WarningsOf): Domain {
  const domain = new DomainView(doc, warnings);
  attachDocument(domain, doc);
  return domain;
}
