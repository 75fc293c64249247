/**
 * Inline suppression in the template itself:
 *   <!-- virt-nested-disable-next-line cpu-check -->   the next line only
 *   <!-- virt-nested-disable cpu-check, cpu-mode -->    the whole file
 * With no rule named, every rule is suppressed there.
 */
import type { XmlDocument } from '../xml/document.js';

/** Which rules are off where in one file. */
export interface Suppressions {
  isSuppressed(rule: string, line: number): boolean;
}

const DIRECTIVE = /^\s*virt-nested-disable(-next-line)?(?:\s+([\w\s,-]*?))?\s*$/;

/**
 * The suppressions that the comments of a document declare.
 *
 * @example
 * suppressionsOf(doc).isSuppressed('cpu-check', 12)
 */
export function suppressionsOf(doc: Pick<XmlDocument, 'comments' | 'lineColumnAt'>): Suppressions {
  const wholeFile = new Set<string>();
  const byLine = new Map<number, Set<string>>();
  for (const comment of doc.comments) {
    const m = DIRECTIVE.exec(comment.text);
    if (!m) continue;
    const rules = (m[2] ?? '').split(/[\s,]+/).filter(Boolean);
    const set = rules.length ? rules : ['*'];
    if (m[1]) {
      const line = doc.lineColumnAt(comment.end).line + 1;
      const existing = byLine.get(line) ?? new Set<string>();
      for (const r of set) existing.add(r);
      byLine.set(line, existing);
    } else {
      for (const r of set) wholeFile.add(r);
    }
  }
  return {
    isSuppressed(rule, line) {
      if (wholeFile.has('*') || wholeFile.has(rule)) return true;
      const set = byLine.get(line);
      return Boolean(set && (set.has('*') || set.has(rule)));
    },
  };
}
