/**
 * The docs cannot rot: every command block of README.md and docs/*.md that names virt-nested is run
 * here against the built CLI (or shown to be byte-identical to a file that is tested), and its exit
 * codes and output are asserted.
 *
 * A block is marked by an HTML comment right before it (invisible on GitHub and npm):
 *
 *   <!-- test: exit=0 -->                      run each command; every one must exit 0
 *   <!-- test: exit=1,0 -->                    …the first must exit 1, the second 0
 *   <!-- test: … stdout=next -->               the next fenced block (```text) is the exact stdout
 *                                              of the last command; `…` stands for what varies
 *   <!-- test: … stdout=next stderr=next -->   the next two blocks: its stdout, then its stderr
 *   <!-- test: … order=any -->                 the expected lines may come in any order
 *   <!-- test: … root=fixtures/hosts/NAME -->  host commands see that fixture tree as `/`
 *                                              (--root on a throw-away copy, added unless given)
 *   <!-- test: … copy=SRC:DEST,… -->           repository files copied into the working directory
 *   <!-- test: … guest=web-1[:running] -->     a throw-away TCG guest on qemu:///system stands for
 *                                              web-1 (a unique name, removed afterwards)
 *   <!-- test: … local=NAME -->                qemu:///system is libvirt's test driver loaded from
 *                                              __tests__/docs/hosts/NAME.xml
 *   <!-- test: … remote=hv1,hv2 -->            qemu+ssh://root@hv1/system … likewise, one node file each
 *   <!-- test: node exit=0 -->                 a ```js block run as an ES module that imports
 *                                              'virt-nested' from a temp node_modules
 *   <!-- test: same-as=PATH -->                the block is byte-identical to PATH (tested elsewhere)
 *
 * Commands run without a shell, in a temp directory holding a copy of fixtures/, with backups sent
 * to a temp directory (shown as /var/lib/virt-nested/backups). `virt-nested` and `npx virt-nested`
 * run `node dist/cli.cjs`; `sudo` is dropped (tests run as root); `npm install`, `npm ci`,
 * `npm run build`, `npm test` and `.ci/run` are the set-up this test itself runs under, and are
 * checked, not run.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLI, ROOT } from '../e2e/run-cli.js';
import { removeGuests, SYSTEM_URI, tcgGuestXml, uniqueName } from '../virsh/throwaway-guests.js';
import { docFiles, fencedBlocks, markerKeys, outputPattern, shellCommands, type FencedBlock, type Words } from './markdown.js';

const DOC_FILES = docFiles(ROOT);

const CODE_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'js', 'mjs', 'ts', 'yaml', 'yml']);
const HOSTS_DIR = join(ROOT, '__tests__/docs/hosts');
const DISPLAY_BACKUP_DIR = '/var/lib/virt-nested/backups';

interface Run {
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where a block runs, and the names it stands in for. */
interface Context {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Exact words replaced before running (doc name → real name). */
  readonly forward: Map<string, string>;
  /** Text replaced in the output (real → doc), longest first. */
  readonly reverse: Array<[string, string]>;
  readonly guests: string[];
  readonly hasGuests: boolean;
  /** The fixture tree the host commands get as `--root`. */
  readonly root?: string;
}

const testUri = (name: string) => {
  const file = join(HOSTS_DIR, `${name}.xml`);
  if (!existsSync(file)) throw new Error(`no libvirt test-driver node file ${file}`);
  return `test://${file}`;
};

function virsh(args: readonly string[]): void {
  const r = spawnSync('virsh', ['-c', SYSTEM_URI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')} failed: ${r.stderr}`);
}

function makeContext(keys: Map<string, string>): Context {
  const cwd = mkdtempSync(join(tmpdir(), 'vn-docs-'));
  cpSync(join(ROOT, 'fixtures'), join(cwd, 'fixtures'), { recursive: true });
  for (const pair of (keys.get('copy') ?? '').split(',').filter(Boolean)) {
    const [from, to] = pair.split(':');
    if (!from || !to) throw new Error(`copy=${pair}: write SRC:DEST`);
    mkdirSync(dirname(join(cwd, to)), { recursive: true });
    cpSync(join(ROOT, from), join(cwd, to), { recursive: true });
  }
  const env: NodeJS.ProcessEnv = { ...process.env, VIRT_NESTED_BACKUP_DIR: join(cwd, '.backups') };
  delete env['LIBVIRT_DEFAULT_URI'];
  const forward = new Map<string, string>();
  const reverse: Array<[string, string]> = [[join(cwd, '.backups'), DISPLAY_BACKUP_DIR]];
  const root = keys.get('root');
  if (root !== undefined) {
    if (!root.startsWith('fixtures/hosts/') || !existsSync(join(cwd, root))) throw new Error(`root=${root} is not a fixture tree`);
  }
  const local = keys.get('local');
  if (local !== undefined) {
    const uri = testUri(local);
    env['LIBVIRT_DEFAULT_URI'] = uri;
    forward.set(SYSTEM_URI, uri);
    reverse.push([uri, SYSTEM_URI]);
  }
  for (const host of (keys.get('remote') ?? '').split(',').filter(Boolean)) {
    const uri = testUri(host);
    forward.set(`qemu+ssh://root@${host}/system`, uri);
    reverse.push([uri, `qemu+ssh://root@${host}/system`]);
  }
  const guests: string[] = [];
  const guestKeys = (keys.get('guest') ?? '').split(',').filter(Boolean);
  if (guestKeys.length && local !== undefined) throw new Error('guest= and local= cannot be combined');
  const context: Context = { cwd, env, forward, reverse, guests, hasGuests: guestKeys.length > 0, ...(root === undefined ? {} : { root: join(cwd, root) }) };
  if (guestKeys.length) env['LIBVIRT_DEFAULT_URI'] = SYSTEM_URI;
  for (const spec of guestKeys) {
    const [shown = '', state] = spec.split(':');
    const real = uniqueName(shown);
    guests.push(real);
    const file = join(cwd, `${real}.xml`);
    writeFileSync(file, tcgGuestXml(real));
    virsh(['define', '--file', file]);
    if (state === 'running') virsh(['start', '--domain', real]);
    forward.set(shown, real);
    reverse.push([real, shown]);
  }
  reverse.sort((a, b) => b[0].length - a[0].length);
  return context;
}

async function dropContext(context: Context): Promise<void> {
  await removeGuests(context.guests);
  rmSync(context.cwd, { recursive: true, force: true });
}

const SETUP: Record<string, () => void> = {
  'npm install': () => expect(existsSync(join(ROOT, 'node_modules'))).toBe(true),
  'npm ci': () => expect(existsSync(join(ROOT, 'node_modules'))).toBe(true),
  'npm run build': () => expect(existsSync(CLI)).toBe(true),
  'npm test': () => undefined,
  '.ci/run': () => accessSync(join(ROOT, '.ci/run'), constants.X_OK),
  './.ci/run': () => accessSync(join(ROOT, '.ci/run'), constants.X_OK),
};

const HOST_COMMANDS = new Set(['check-host', 'enable-host', 'disable-host', 'check-guest']);

/** A host command of a block marked root=… gets that tree as `--root` (check-guest only without guests). */
function withRoot(words: string[], context: Context): string[] {
  if (context.root === undefined || words.includes('--root')) return words;
  const at = words[0] === 'npx' ? 2 : 1;
  const command = words[at];
  if (words[at - 1] !== 'virt-nested' || command === undefined || !HOST_COMMANDS.has(command)) return words;
  if (command === 'check-guest' && words.slice(at + 1).some((w) => !w.startsWith('-'))) return words;
  return [...words, '--root', context.root];
}

/** What to spawn for one command of a snippet, or undefined for a set-up command. */
function spawnArgs(words: Words, context: Context): { file: string; args: string[]; env: NodeJS.ProcessEnv } | undefined {
  let rest = words[0] === 'sudo' ? words.slice(1) : words;
  const env = { ...context.env };
  while (rest[0] !== undefined && /^[A-Z_][A-Z0-9_]*=/.test(rest[0])) {
    const [name = '', ...value] = rest[0].split('=');
    env[name] = value.join('=');
    rest = rest.slice(1);
  }
  const setup = SETUP[rest.join(' ')];
  if (setup) {
    setup();
    return undefined;
  }
  const substituted = withRoot(rest.map((w) => context.forward.get(w) ?? w), context);
  if (substituted[0] === 'npx' && substituted[1] === 'virt-nested') return { file: process.execPath, args: [CLI, ...substituted.slice(2)], env };
  if (substituted[0] === 'virt-nested') return { file: process.execPath, args: [CLI, ...substituted.slice(1)], env };
  if (substituted[0] === 'virsh' && context.hasGuests) return { file: 'virsh', args: substituted.slice(1), env };
  throw new Error(`the docs test does not know how to run: ${words.join(' ')}`);
}

function unsubstitute(text: string, context: Context): string {
  let out = text;
  for (const [real, shown] of context.reverse) out = out.split(real).join(shown);
  return out;
}

function spawn(command: string, file: string, args: readonly string[], env: NodeJS.ProcessEnv, context: Context): Run {
  const r = spawnSync(file, args, { cwd: context.cwd, env, encoding: 'utf8', input: '', timeout: 120_000 });
  return { command, code: r.status, stdout: unsubstitute(r.stdout ?? '', context), stderr: unsubstitute(r.stderr ?? '', context) };
}

function runShellBlock(block: FencedBlock, context: Context): Run[] {
  const runs: Run[] = [];
  for (const words of shellCommands(block.text)) {
    const spawned = spawnArgs(words, context);
    if (spawned) runs.push(spawn(words.join(' '), spawned.file, spawned.args, spawned.env, context));
  }
  return runs;
}

function runNodeBlock(block: FencedBlock, context: Context): Run[] {
  let source = block.text;
  for (const [shown, real] of context.forward) source = source.split(`'${shown}'`).join(`'${real}'`);
  mkdirSync(join(context.cwd, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(context.cwd, 'node_modules', 'virt-nested'));
  writeFileSync(join(context.cwd, 'snippet.mjs'), source);
  return [spawn('node snippet.mjs', process.execPath, ['snippet.mjs'], context.env, context)];
}

function expectOutput(actual: string, expected: string, order: string | undefined, what: string): void {
  if (order === 'any') {
    const lines = (s: string) => s.split('\n').filter(Boolean).sort();
    expect({ [what]: lines(actual) }).toEqual({ [what]: lines(expected) });
  } else if (expected.includes('…')) {
    expect({ [what]: actual }).toEqual({ [what]: expect.stringMatching(outputPattern(expected)) });
  } else {
    expect({ [what]: actual }).toEqual({ [what]: expected });
  }
}

const mentionsVirtNested = (block: FencedBlock) => /\bvirt-nested\b/.test(block.text);

for (const file of DOC_FILES) {
  describe(file, () => {
    const blocks = fencedBlocks(ROOT, file);

    test('every code block that uses virt-nested carries a test: comment', () => {
      const unmarked = blocks.filter((b) => CODE_LANGS.has(b.lang) && mentionsVirtNested(b) && b.marker === undefined);
      expect(unmarked.map((b) => `${b.file}:${b.line}`)).toEqual([]);
    });

    blocks.forEach((block, index) => {
      if (block.marker === undefined) return;
      const keys = markerKeys(block.marker);
      const title = `${file}:${block.line} ${block.text.split('\n').find((l) => l && !l.startsWith('#') && !l.startsWith('//') && !l.startsWith('import')) ?? ''}`;

      const sameAs = keys.get('same-as');
      if (sameAs !== undefined) {
        test(`${title} is byte-identical to ${sameAs}`, () => {
          expect(block.text).toBe(readFileSync(join(ROOT, sameAs), 'utf8'));
        });
        return;
      }

      test(title, async () => {
        const exits = (keys.get('exit') ?? '').split(',').filter(Boolean).map(Number);
        expect(exits.length).toBeGreaterThan(0);
        const followers = blocks.slice(index + 1);
        const wanted = (['stdout', 'stderr'] as const).filter((s) => keys.get(s) === 'next');
        const expected = new Map(wanted.map((stream, i) => {
          const follower = followers[i];
          if (!follower || follower.lang !== 'text') throw new Error(`${file}:${block.line}: ${stream}=next needs a \`\`\`text block after it`);
          return [stream, follower.text] as const;
        }));

        const context = makeContext(keys);
        try {
          const runs = keys.has('node') ? runNodeBlock(block, context) : runShellBlock(block, context);
          expect(runs.length).toBeGreaterThan(0);
          if (exits.length > 1) expect(exits.length).toBe(runs.length);
          const want = runs.map((_, i) => (exits.length === 1 ? exits[0] : exits[i]));
          // beside a wrong exit code, the output of that run (on both sides, so only the code differs)
          const output = (r: Run, i: number) => (r.code === want[i] ? '' : `\n${r.stdout}${r.stderr}`);
          expect(runs.map((r, i) => `${r.command} → exit ${r.code}${output(r, i)}`))
            .toEqual(runs.map((r, i) => `${r.command} → exit ${want[i]}${output(r, i)}`));
          const last = runs[runs.length - 1];
          for (const [stream, text] of expected) expectOutput(last?.[stream] ?? '', text, keys.get('order'), stream);
        } finally {
          await dropContext(context);
        }
      });
    });
  });
}
