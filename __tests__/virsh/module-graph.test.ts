/**
 * The modules of src import one another in one direction only: no cycle, type-only imports included
 * (a cycle of types is how the virsh transport and its commands got tangled before).
 */

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../e2e/run-cli.js';

const SRC = join(ROOT, 'src');

/** Each module of src (as a path under src) with the modules of src it imports or re-exports from. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts')).map((name) => name.split('\\').join('/'));
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(SRC, file), 'utf8'), true, true);
    const local = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(SRC, resolve(SRC, dirname(file), name)).split('\\').join('/').replace(/\.js$/, '.ts'));
    graph.set(file, local);
  }
  return graph;
}

/** Every cycle met by a depth-first walk, each named once from the module where the walk closed it. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const visit = (file: string, path: string[]): void => {
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next].join(' → '));
      else if (!done.has(next)) visit(next, [...path, next]);
    }
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file, [file]);
  return found;
}

test('src has no import cycle, type-only imports included', () => {
  const graph = importGraph();
  expect(graph.get('virsh/domain-commands.ts')).toContain('virsh/runner.ts');
  expect(graph.get('cli/set-cpu-guests.ts')).toContain('cli/exit-codes.ts');
  expect(cycles(graph)).toEqual([]);
});

test('the cycle finder finds a type-only cycle, and one across folders', () => {
  expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]]))).toEqual(['a.ts → b.ts → a.ts']);
  expect(cycles(new Map([['x/a.ts', ['y/b.ts']], ['y/b.ts', ['z/c.ts']], ['z/c.ts', ['y/b.ts']]]))).toEqual(['y/b.ts → z/c.ts → y/b.ts']);
});

/** Code outside src/virsh that runs virsh: a `'virsh'` program, or a session's `run([...])`; comments left out. */
function virshCallsOutsideVirsh(): string[] {
  const found: string[] = [];
  for (const file of readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts') && !name.startsWith('virsh'))) {
    const code = readFileSync(join(SRC, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const call of code.match(/\(\s*'virsh'\s*,|\.run\(\s*\[\s*'[\w-]+'/g) ?? []) found.push(`${file}: ${call}`);
  }
  return found;
}

test('nothing outside src/virsh runs virsh: the host layer asks through virsh/host-commands.ts, apply/ through the typed commands', () => {
  expect(virshCallsOutsideVirsh()).toEqual([]);
});
