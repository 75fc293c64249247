/**
 * How libxml2-wasm is imported: on first use (it instantiates its WebAssembly when imported, with a
 * top-level await, so it is an ES module that only `import()` can load).
 */

/** libxml2-wasm's module namespace. */
export type Libxml2 = typeof import('libxml2-wasm');

/**
 * Where the CLI's launcher puts its `import()` for the bundle it runs. That bundle is a CommonJS script
 * compiled through `vm.Script` from V8's code cache, and such a script has no `import()` of its own
 * (Node 20 gives it one only as an experimental feature, and loses it again in code read from the cache).
 */
export const IMPORT_ESM = Symbol.for('virt-nested.import-esm');

type ImportEsm = (specifier: string) => Promise<unknown>;

/**
 * Imports libxml2-wasm: through the launcher's `import()` inside the CLI bundle, with this module's own
 * everywhere else.
 *
 * @example
 * const libxml2 = await importLibxml2();
 * const doc = libxml2.XmlDocument.fromString('<domain/>');
 */
export function importLibxml2(): Promise<Libxml2> {
  const importEsm = (globalThis as { [IMPORT_ESM]?: ImportEsm })[IMPORT_ESM];
  return importEsm ? (importEsm('libxml2-wasm') as Promise<Libxml2>) : import('libxml2-wasm');
}
