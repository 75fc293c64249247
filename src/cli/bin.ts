/**
 * The `virt-nested` executable (package.json `bin`, built as a small CommonJS file, `dist/cli.cjs`). It does
 * only what must happen before any other code loads, then imports the CLI (`dist/cli/bundle.js`, minified
 * ES modules that import the library from `dist/lib/`):
 * - Node's own compile cache, where Node has one (22.1 and later): later runs skip compiling our code;
 * - `--version` alone is answered here, without loading the CLI at all;
 * - a plain `set-cpu` starts its virsh here, so that virsh connects while the CLI loads (`early-virsh.ts`);
 * - with `--debug`, stack traces are mapped back to `src/` through the bundle's source maps.
 */
import * as nodeModule from 'node:module';

/** The package's version, compiled in by the build. */
declare const VIRT_NESTED_VERSION: string;

/** The arguments that only ask for the version (what the CLI's `--version` option accepts). */
const VERSION_ARGUMENTS: ReadonlySet<string> = new Set(['--version', '-V']);

/**
 * Starts the CLI on `argv` (without node and script).
 *
 * @example
 * void start(process.argv.slice(2));
 */
export async function start(argv: readonly string[]): Promise<void> {
  // absent before Node 22.1; a cache directory it cannot write only costs the speed-up
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  if (argv.length === 1 && VERSION_ARGUMENTS.has(argv[0] as string)) {
    process.stdout.write(`${VIRT_NESTED_VERSION}\n`);
    return;
  }
  if (argv.includes('--debug')) process.setSourceMapsEnabled(true);
  // loaded only for set-cpu (it brings node:child_process): `--version` and `lint` start without it
  const early = argv[0] === 'set-cpu' ? (await import('./early-virsh.js')).startEarlyVirsh(argv) : undefined;
  // resolved by the build to dist/cli/bundle.js, the CLI's entry chunk
  const { run } = await import('./bundle.js');
  await run(argv, early);
}

void start(process.argv.slice(2));
