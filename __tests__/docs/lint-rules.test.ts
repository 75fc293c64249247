/**
 * docs/lint-rules.md names every rule the code has, with the severity the code gives it, and its
 * examples do what the page says: each "bad" example gives exactly the problems of its rule and each
 * "good" one none, through the built CLI with libvirt's schema.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMAIN_RULES, TEXT_RULES } from '../../src/index.js';
import { CLI, ROOT } from '../e2e/run-cli.js';
import { fencedBlocks } from './markdown.js';

const PAGE = 'docs/lint-rules.md';
const text = readFileSync(join(ROOT, PAGE), 'utf8');
const rules = [...TEXT_RULES, ...DOMAIN_RULES].map((r) => ({ id: r.id, severity: r.severity }));

interface Example { readonly kind: 'bad' | 'good'; readonly rule: string | undefined; readonly xml: string; readonly line: number }

const examples: Example[] = fencedBlocks(ROOT, PAGE)
  .filter((b) => b.lang === 'xml')
  .map((b) => {
    const m = /^lint: (bad|good)(?: ([\w-]+))?$/.exec(b.comment ?? '');
    if (!m) throw new Error(`${PAGE}:${b.line}: an xml example needs <!-- lint: bad RULE --> or <!-- lint: good --> before it`);
    return { kind: m[1] as 'bad' | 'good', rule: m[2], xml: b.text, line: b.line };
  });

test('every rule of the code has a section with its severity, and the page names no other rule', () => {
  const sections = [...text.matchAll(/^## ([a-z-]+)\n\nSeverity: \*\*(error|warning)\*\*/gm)].map((m) => ({ id: m[1], severity: m[2] }));
  expect(sections).toEqual(rules);
  const table = [...text.matchAll(/^\| \[`([a-z-]+)`\]\(#[a-z-]+\) \| (error|warning) \|/gm)].map((m) => ({ id: m[1], severity: m[2] }));
  expect(table).toEqual(rules);
});

// a bad example would be 10,000 lines; __tests__/lint/lint-text.test.ts has them
const NO_EXAMPLE = new Set(['schema-too-large']);

test('every rule has a bad example', () => {
  expect([...new Set(examples.filter((e) => e.kind === 'bad').map((e) => e.rule))].sort()).toEqual(rules.map((r) => r.id).filter((id) => !NO_EXAMPLE.has(id)).sort());
});

test('each bad example gives exactly the problems of its rule, each good example none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vn-lint-docs-'));
  try {
    const files = examples.map((e, i) => {
      const file = join(dir, `${String(i).padStart(2, '0')}-${e.kind}-${e.rule ?? 'clean'}.xml`);
      writeFileSync(file, e.xml);
      return file;
    });
    const r = spawnSync(process.execPath, [CLI, 'lint', '--format', 'json', dir], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { files: number; problems: Array<{ file: string; rule: string }> };
    expect(report.files).toBe(examples.length);
    const seen = examples.map((e, i) => ({
      example: `${PAGE}:${e.line} (${e.kind} ${e.rule ?? ''})`,
      rules: [...new Set(report.problems.filter((p) => p.file === files[i]).map((p) => p.rule))],
    }));
    expect(seen).toEqual(examples.map((e) => ({ example: `${PAGE}:${e.line} (${e.kind} ${e.rule ?? ''})`, rules: e.rule ? [e.rule] : [] })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
