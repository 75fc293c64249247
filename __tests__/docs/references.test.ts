/**
 * What the docs name exists: every `virt-nested COMMAND --option` written anywhere in README.md and
 * docs/*.md (in prose code spans too, not only in tested blocks) is a command with that option in
 * its --help, and every library call written as `name(` is an export of the package.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as library from '../../src/index.js';
import { CLI, ROOT } from '../e2e/run-cli.js';
import { docFiles } from './markdown.js';

const help = (args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--help'], { encoding: 'utf8' }).stdout;
const optionsIn = (text: string) => new Set([...text.matchAll(/(?:^|[\s,])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1] ?? ''));

const globalHelp = help([]);
const commands = [...globalHelp.matchAll(/^ {2}([a-z][a-z-]+) \[/gm)].map((m) => m[1] ?? '');
const options = new Map(commands.map((c) => [c, new Set([...optionsIn(help([c])), ...optionsIn(globalHelp)])]));

/** Code spans and the lines of fenced blocks of one Markdown text. */
function codeOf(text: string): string[] {
  const pieces: string[] = [];
  const prose = text.replace(/^(```+)[^\n]*\n([^]*?)^\1\s*$/gm, (_, _fence: string, body: string) => {
    pieces.push(...body.split('\n'));
    return '';
  });
  for (const m of prose.replace(/\n(?!\n)/g, ' ').matchAll(/`([^`]+)`/g)) pieces.push(m[1] ?? '');
  return pieces;
}

const code = docFiles(ROOT).flatMap((file) => codeOf(readFileSync(join(ROOT, file), 'utf8')).map((piece) => ({ file, piece })));

test('the CLI has the commands the docs are written for', () => {
  expect(commands.sort()).toEqual(['backups', 'check-guest', 'check-host', 'disable-host', 'enable-host', 'help', 'lint', 'restore', 'set-cpu']);
});

test('every virt-nested command and option the docs name exists', () => {
  const unknown: string[] = [];
  let seen = 0;
  for (const { file, piece } of code) {
    for (const m of piece.matchAll(/(?:^|[\s(`'"])virt-nested ([a-z][\w-]*)((?: (?!virt-nested )[^;)`|]*)?)/g)) {
      seen++;
      const command = m[1] ?? '';
      const known = options.get(command);
      if (!known) {
        unknown.push(`${file}: virt-nested ${command}`);
        continue;
      }
      for (const option of optionsIn(m[2] ?? '')) if (option !== '--' && !known.has(option)) unknown.push(`${file}: virt-nested ${command} ${option}`);
    }
  }
  expect(unknown).toEqual([]);
  expect(seen).toBeGreaterThan(40);
});

test('every library call the docs write as name( is an export of the package', () => {
  const calls = new Set<string>();
  for (const { piece } of code) {
    for (const m of piece.matchAll(/(?:^|[^\w.])([a-z][a-zA-Z]+)\(/g)) calls.add(m[1] ?? '');
  }
  const notOurs = new Set(['import', 'console', 'readFile', 'writeFile', 'rename', 'readdir', 'join', 'describe', 'if', 'for', 'require', 'catch']);
  const missing = [...calls].filter((name) => !notOurs.has(name) && !(name in library));
  expect(missing).toEqual([]);
  for (const name of ['parseDomain', 'setCpuMode', 'serializeDomain', 'applyCpuMode', 'checkHost', 'enableHost', 'checkGuest', 'checkRunningGuest']) {
    expect(calls).toContain(name);
  }
});
