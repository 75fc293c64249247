/**
 * The virsh adapter's modules import one another in one direction only: no cycle, type-only imports
 * included (a cycle of types is how the transport and the commands got tangled before).
 */

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../e2e/run-cli.js';

const DIR = join(ROOT, 'src/virsh');

/** Each module of src/virsh with the modules of src/virsh it imports or re-exports from. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(DIR).filter((name) => name.endsWith('.ts'))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(DIR, file), 'utf8'), true, true);
    const local = importedFiles.map((imported) => /^\.\/([\w-]+)\.js$/.exec(imported.fileName)?.[1]).filter((name) => name !== undefined);
    graph.set(file, local.map((name) => `${name}.ts`));
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[] {
  const found = new Set<string>();
  const visit = (file: string, path: string[]): void => {
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.add([...path.slice(at), next].join(' → '));
      else visit(next, [...path, next]);
    }
  };
  for (const file of graph.keys()) visit(file, [file]);
  return [...found];
}

test('src/virsh has no import cycle, type-only imports included', () => {
  const graph = importGraph();
  expect(graph.get('domain-commands.ts')).toContain('runner.ts');
  expect(cycles(graph)).toEqual([]);
});

test('the cycle finder finds a type-only cycle', () => {
  expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]]))).toEqual(['a.ts → b.ts → a.ts', 'b.ts → a.ts → b.ts']);
});
