/**
 * parseDomain: libvirt domain XML → a read-only {@link Domain}, after checking that the text is
 * well-formed XML (the scan) and that its root is `<domain>`.
 */
import { DomainXmlError } from '../errors.js';
import { scanXml } from '../xml/scan.js';
import { lineColumnAt } from '../xml/line-column.js';
import { domainOf } from './domain-view.js';
import type { Domain } from './types.js';

/** Options of {@link parseDomain}. */
export interface ParseDomainOptions {
  /** Refuse input larger than this many bytes (default 10 MiB). */
  readonly maxBytes?: number;
  /** The file the XML came from, named in error messages. */
  readonly file?: string;
}

/**
 * Parses libvirt domain XML (as `virsh dumpxml` writes it, or a template) into a read-only
 * {@link Domain}. Throws {@link DomainXmlError} for malformed XML, a DOCTYPE or entity declaration,
 * input over `maxBytes` (10 MiB by default), or a root element other than `<domain>`.
 *
 * @example
 * const domain = parseDomain(await readFile('web-1.xml', 'utf8'));
 * domain.name        // 'web-1'
 * domain.cpu?.mode   // 'host-model'
 * domain.memory?.kib // 2097152
 */
export function parseDomain(xml: string, options: ParseDomainOptions = {}): Domain {
  if (typeof xml !== 'string') throw new TypeError('parseDomain expects the XML as a string');
  const doc = scanXml(xml, options);
  if (doc.root.name !== 'domain') {
    const { line, column } = lineColumnAt(xml, doc.root.start);
    const at = options.file === undefined ? '' : `${options.file}:${line}:${column}: `;
    throw new DomainXmlError('XML_NOT_DOMAIN', `${at}the root element is <${doc.root.name}>, not <domain>; this is not libvirt domain XML`, line, column, options.file);
  }
  return domainOf(doc, []);
}
