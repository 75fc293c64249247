/**
 * Reading a scanned element: its text, an attribute's value, a child by name. What the model
 * (`domain/`) and the edits read a document with.
 */
import type { XmlDocument, XmlElement } from './document.js';
import { decodeReferences } from './entities.js';

/**
 * The text content of `element` (its direct text and CDATA; comments, processing instructions and
 * child elements skipped), with references decoded.
 *
 * @example
 * textOf(doc, nameElement) // 'web-1'
 */
export function textOf(doc: XmlDocument, element: XmlElement): string {
  if (element.selfClosing) return '';
  const { source } = doc;
  let out = '';
  let pos = element.openEnd;
  // read once: each read of `children` builds the list anew
  const children = element.children;
  let child = 0;
  while (pos < element.closeStart) {
    const lt = source.indexOf('<', pos);
    const stop = lt === -1 || lt > element.closeStart ? element.closeStart : lt;
    if (stop > pos) {
      // line ends are normalized before references are decoded, so a &#13; stays a carriage return
      const raw = source.slice(pos, stop).replace(/\r\n?/g, '\n');
      const decoded = decodeReferences(raw);
      out += typeof decoded === 'string' ? decoded : raw;
    }
    if (stop === element.closeStart) break;
    if (source.startsWith('<!--', stop)) pos = source.indexOf('-->', stop) + 3;
    else if (source.startsWith('<![CDATA[', stop)) {
      const close = source.indexOf(']]>', stop);
      out += source.slice(stop + 9, close).replace(/\r\n?/g, '\n');
      pos = close + 3;
    } else if (source.startsWith('<?', stop)) pos = source.indexOf('?>', stop) + 2;
    else {
      const c = children[child++];
      pos = c ? c.end : element.closeStart;
    }
  }
  return out;
}

/**
 * The value of the attribute `name` of `element`, or undefined.
 *
 * @example
 * attributeOf(cpu, 'mode') // 'host-model'
 */
export function attributeOf(element: XmlElement, name: string): string | undefined {
  for (const a of element.attributes) if (a.name === name) return a.value;
  return undefined;
}

/**
 * The first child of `element` named `name`.
 *
 * @example
 * childOf(doc.root, 'os')
 */
export function childOf(element: XmlElement, name: string): XmlElement | undefined {
  for (const c of element.children) if (c.name === name) return c;
  return undefined;
}
