/**
 * How libxml2-wasm is imported: on first use, never when lint/ is loaded (it instantiates its WebAssembly
 * when imported, with a top-level await, so only `import()` can load it, and only a schema check needs it).
 */

/** libxml2-wasm's module namespace. */
export type Libxml2 = typeof import('libxml2-wasm');

/**
 * Imports libxml2-wasm.
 *
 * @example
 * const libxml2 = await importLibxml2();
 * const doc = libxml2.XmlDocument.fromString('<domain/>');
 */
export function importLibxml2(): Promise<Libxml2> {
  return import('libxml2-wasm');
}
