/**
 * What the docs tests read in the Markdown files: fenced blocks with the `<!-- test: … -->` comment
 * before them, shell words of a `sh` block, and expected output with `…` for what varies.
 *
 * The convention, as written in README.md and docs/*.md:
 *
 *   <!-- test: exit=0 root=fixtures/hosts/intel-nested-on stdout=next -->
 *   ```sh
 *   virt-nested check-host
 *   ```
 *   ```text
 *   …the exact stdout of the last command…
 *   ```
 *
 * In expected output a line that is only `…` stands for any number of lines, and `…` inside a line
 * for any text on that line. See snippets.test.ts for the keys a `test:` comment takes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Markdown files whose snippets are tested: README.md and docs/*.md, relative to `root`. */
export function docFiles(root: string): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** A fenced block of a Markdown file. */
export interface FencedBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  /** The lines between the fences, each ending in '\n'. */
  readonly text: string;
  /** The one-line HTML comment right before the block (only blank lines between), trimmed. */
  readonly comment: string | undefined;
  /** That comment's text after `test:`, when it is a `test:` comment. */
  readonly marker: string | undefined;
}

const FENCE = /^(`{3,}|~{3,})\s*([\w-]*)\s*$/;
const COMMENT = /^<!--(.*?)-->$/;

/** Every fenced block of `file` (a path relative to `root`), in document order. */
export function fencedBlocks(root: string, file: string): FencedBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: FencedBlock[] = [];
  let lastNonBlank = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const open = FENCE.exec(line);
    if (!open) {
      if (line.trim() !== '') lastNonBlank = line.trim();
      continue;
    }
    const fence = open[1] ?? '```';
    const start = i;
    let text = '';
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(fence); i++) text += `${lines[i]}\n`;
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: the fenced block is never closed`);
    const comment = COMMENT.exec(lastNonBlank)?.[1]?.trim();
    const marker = comment?.startsWith('test:') ? comment.slice('test:'.length).trim() : undefined;
    blocks.push({ file, line: start + 1, lang: open[2] ?? '', text, comment, marker });
    lastNonBlank = '';
  }
  return blocks;
}

/** `key=value` pairs of a marker; a bare word is `word=true`; values may be "double quoted". */
export function markerKeys(marker: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const m of marker.matchAll(/([\w-]+)(?:=("[^"]*"|\S+))?/g)) {
    const value = m[2] ?? 'true';
    keys.set(m[1] ?? '', value.startsWith('"') ? value.slice(1, -1) : value);
  }
  return keys;
}

/** One command line of a `sh` block, split into words as a POSIX shell would (no expansions). */
export type Words = string[];

/**
 * The commands of a `sh` block: `#` comments dropped, `\` continuations joined, `&&` separating.
 * Pipes, redirections, `;`, substitutions and unquoted globs are refused: the docs test runs each
 * command without a shell, so a snippet must mean the same with and without one.
 */
export function shellCommands(text: string): Words[] {
  const commands: Words[] = [];
  let words: Words = [];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\' && text[i + 1] === '\n') { i++; continue; }
    if (c === '\n') { endCommand(); continue; }
    if (c === ' ' || c === '\t') { endWord(); continue; }
    if (c === '#' && word === undefined) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (c === '&' && text[i + 1] === '&') { endCommand(); i++; continue; }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${text}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
      continue;
    }
    if (c === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && /["\\$`]/.test(text[i + 1] ?? '')) i++;
        else if (/[$`]/.test(text[i] ?? '')) throw new Error(`the docs test runs no shell, so "${text[i]}" cannot be used in: ${text}`);
        value += text[i];
      }
      if (i >= text.length) throw new Error(`unclosed " in: ${text}`);
      word = (word ?? '') + value;
      continue;
    }
    if (c === '\\') { word = (word ?? '') + (text[i + 1] ?? ''); i++; continue; }
    if (/[|;<>$`*?[(){}&]/.test(c)) throw new Error(`the docs test runs no shell, so an unquoted "${c}" cannot be used in: ${text.trim()}`);
    word = (word ?? '') + c;
  }
  endCommand();
  return commands;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A regular expression for expected output: a line that is only `…` matches any number of whole
 * lines, `…` inside a line matches any text on that line, everything else matches itself.
 */
export function outputPattern(expected: string): RegExp {
  const lines = expected.split('\n');
  let source = '';
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    if (line === '…' && !last) {
      source += '(?:[^\\n]*\\n)*?';
      return;
    }
    source += line.split('…').map(escapeRegExp).join('[^\\n]*?') + (last ? '' : '\\n');
  });
  return new RegExp(`^${source}$`);
}
