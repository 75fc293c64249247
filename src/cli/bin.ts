/**
 * The `virt-nested` executable (package.json `bin`, built as CommonJS into `dist/cli.cjs`, so `__dirname`,
 * `require` and `module` here are CommonJS's). It runs the CLI bundle beside it, `cli-bundle.cjs`, from
 * the V8 code cache that the build made for it, `cli-bundle.cache`: a run then does not compile the
 * bundle's JavaScript again. Start-up is a feature of a CLI, and Node 20 has no compile cache of its own
 * (`module.enableCompileCache` came with Node 22).
 *
 * The cache is used only when it was made from these very bytes (it begins with their SHA-256) and V8
 * takes it (the same V8 version and flags); otherwise the bundle is compiled as usual, only slower.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { IMPORT_ESM } from '../lint/import-libxml2.js';

/** What the bundle exports (see `bundle.ts`). */
export type CliBundle = typeof import('./bundle.js');

/** The bundle, and what the build needs to make its code cache. */
export interface LoadedBundle {
  readonly bundle: CliBundle;
  /** The compiled bundle: after the build's training runs, its code cache holds every function they ran. */
  readonly script: Script;
  /** SHA-256 of the bundle's bytes, with which its code cache begins. */
  readonly digest: Buffer;
  /** Whether V8 compiled the bundle from the code cache. */
  readonly cacheUsed: boolean;
}

/** The CLI bundle. */
export const BUNDLE_FILE = join(__dirname, 'cli-bundle.cjs');
/** Its code cache: the bundle's SHA-256, then V8's cached data. */
export const CACHE_FILE = join(__dirname, 'cli-bundle.cache');

/**
 * Compiles the bundle (from the code cache when it fits and `useCache` is not false), runs its top
 * level (which only defines its exports) and returns it.
 *
 * @example
 * const { bundle } = loadBundle();
 * process.exitCode = await bundle.main(['--version']);
 */
export function loadBundle({ useCache = true }: { useCache?: boolean } = {}): LoadedBundle {
  const bytes = readFileSync(BUNDLE_FILE);
  const digest = createHash('sha256').update(bytes).digest();
  const cachedData = useCache ? cacheFor(digest) : undefined;
  // Node's own CommonJS wrapper, on the bundle's first line, so that stack traces keep its line numbers
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${bytes.toString('utf8')}\n})`, {
    filename: BUNDLE_FILE,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  // a script compiled by vm has no import() of its own: lend it this module's, for its ES-module-only dependencies
  (globalThis as { [IMPORT_ESM]?: (specifier: string) => Promise<unknown> })[IMPORT_ESM] = (specifier) => import(specifier);
  const bundleModule = { exports: {} as CliBundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(bundleModule.exports, createRequire(BUNDLE_FILE), bundleModule, BUNDLE_FILE, __dirname);
  return { bundle: bundleModule.exports, script, digest, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/** V8's data from the cache file when the file was made for the bundle with this digest. */
function cacheFor(digest: Buffer): Buffer | undefined {
  let file: Buffer;
  try {
    file = readFileSync(CACHE_FILE);
  } catch {
    return undefined;
  }
  return file.length > digest.length && file.subarray(0, digest.length).equals(digest) ? file.subarray(digest.length) : undefined;
}

/**
 * Writes the code cache of a loaded bundle (the build calls it after its training runs) and returns
 * the size of V8's data.
 *
 * @example
 * const loaded = loadBundle({ useCache: false });
 * await loaded.bundle.main(['set-cpu', '--file', 'web.xml', '--mode', 'host-model'], quietIo);
 * writeCodeCache(loaded);
 */
export function writeCodeCache(loaded: LoadedBundle): number {
  const data = loaded.script.createCachedData();
  writeFileSync(CACHE_FILE, Buffer.concat([loaded.digest, data]));
  return data.length;
}

if (require.main === module) void loadBundle().bundle.run();
