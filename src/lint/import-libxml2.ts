/**
 * How libxml2-wasm is imported: on first use (it instantiates its WebAssembly when imported, with a
 * top-level await, so it is an ES module that only `import()` can load).
 */

/** libxml2-wasm's module namespace. */
export type Libxml2 = typeof import('libxml2-wasm');

/** An `import()`. */
export type ImportEsm = (specifier: string) => Promise<unknown>;

/** The `import()` lent by the CLI's launcher, when this module runs inside its bundle. */
let lentImport: ImportEsm | undefined;

/**
 * Lends this module an `import()` to use instead of its own. The CLI's launcher does, for the bundle it
 * runs: a CommonJS script compiled through `vm.Script` from V8's code cache has no `import()` of its own
 * (Node 20 gives it one only as an experimental feature, and loses it again in code read from the cache).
 * It concerns this copy of the module only: the library imported by name keeps its own.
 *
 * @example
 * lendImport((specifier) => import(specifier));
 */
export function lendImport(importEsm: ImportEsm): void {
  lentImport = importEsm;
}

/**
 * Imports libxml2-wasm, through the lent `import()` if there is one.
 *
 * @example
 * const libxml2 = await importLibxml2();
 * const doc = libxml2.XmlDocument.fromString('<domain/>');
 */
export function importLibxml2(): Promise<Libxml2> {
  return lentImport ? (lentImport('libxml2-wasm') as Promise<Libxml2>) : import('libxml2-wasm');
}
