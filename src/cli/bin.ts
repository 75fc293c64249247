/**
 * The `virt-nested` executable (package.json `bin`, built as CommonJS into `dist/cli.cjs`, so `__dirname`,
 * `require` and `module` here are CommonJS's). It runs the CLI bundle beside it, `cli-bundle.cjs`, from
 * the V8 code cache that the build made for it, `cli-bundle.cache`: a run then does not compile the
 * bundle's JavaScript again. Start-up is a feature of a CLI, and Node 20 has no compile cache of its own
 * (`module.enableCompileCache` came with Node 22).
 *
 * The cache is used only when it is intact and was made from these very bytes (it begins with the
 * SHA-256 of the bundle's bytes followed by V8's data; release builds of V8 check neither, and crash on
 * damaged data) and V8 takes it (the same V8 version and flags); otherwise the bundle is compiled as
 * usual, only slower.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** What the bundle exports (see `bundle.ts`). */
export type CliBundle = typeof import('./bundle.js');

/** The bundle, and what the build needs to make its code cache. */
export interface LoadedBundle {
  readonly bundle: CliBundle;
  /** The compiled bundle: after the build's training runs, its code cache holds every function they ran. */
  readonly script: Script;
  /** The bundle's bytes. */
  readonly bytes: Buffer;
  /** Whether V8 compiled the bundle from the code cache. */
  readonly cacheUsed: boolean;
}

/** The CLI bundle. */
export const BUNDLE_FILE = join(__dirname, 'cli-bundle.cjs');
/** Its code cache: the SHA-256 of the bundle's bytes followed by V8's data, then V8's data. */
export const CACHE_FILE = join(__dirname, 'cli-bundle.cache');
const DIGEST_LENGTH = 32;

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
  const cachedData = useCache ? cacheFor(bytes) : undefined;
  // Node's own CommonJS wrapper, on the bundle's first line, so that stack traces keep its line numbers
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${bytes.toString('utf8')}\n})`, {
    filename: BUNDLE_FILE,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const bundleModule = { exports: {} as CliBundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(bundleModule.exports, createRequire(BUNDLE_FILE), bundleModule, BUNDLE_FILE, __dirname);
  // a script compiled by vm has no import() of its own: lend it this module's, for its ES-module-only dependencies
  bundleModule.exports.lendImport((specifier) => import(specifier));
  return { bundle: bundleModule.exports, script, bytes, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/** What a code cache begins with: the SHA-256 of the bundle's bytes followed by V8's data. */
function cacheDigest(bytes: Buffer, data: Buffer): Buffer {
  return createHash('sha256').update(bytes).update(data).digest();
}

/** V8's data from the cache file, when the file is intact and was made for these bundle bytes. */
function cacheFor(bytes: Buffer): Buffer | undefined {
  let file: Buffer;
  try {
    file = readFileSync(CACHE_FILE);
  } catch {
    return undefined;
  }
  const data = file.subarray(DIGEST_LENGTH);
  return data.length > 0 && cacheDigest(bytes, data).equals(file.subarray(0, DIGEST_LENGTH)) ? data : undefined;
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
  // a launcher starting meanwhile reads the old file or the new one, never a part
  const temp = `${CACHE_FILE}.${process.pid}.tmp`;
  writeFileSync(temp, Buffer.concat([cacheDigest(loaded.bytes, data), data]));
  renameSync(temp, CACHE_FILE);
  return data.length;
}

if (require.main === module) void loadBundle().bundle.run();
