/**
 * The only files libxml2-wasm may read: those inside one schema directory, and only while a schema
 * loads. libxml2 resolves `<include href>` through input callbacks, and its table of callbacks is small
 * and process-wide, so one guarded provider is registered once per process and switched on for the
 * duration of a (synchronous) schema load; at any other time it matches nothing, and libxml2's own
 * loader inside WebAssembly sees an empty in-memory file system, so a validated document can never
 * pull in a file.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { XmlInputProvider } from 'libxml2-wasm';
import { VirtNestedError } from '../errors.js';

/**
 * The part of libxml2-wasm this module needs; passed in so the WebAssembly loads only when a schema does.
 *
 * @example
 * const registry: InputProviderRegistry = await import('libxml2-wasm');
 */
export interface InputProviderRegistry {
  xmlRegisterInputProvider(provider: XmlInputProvider): boolean;
}

/** The real path of the directory being read while a schema loads; undefined at all other times. */
let loadingDir: string | undefined;
/** Registries (one per loaded copy of libxml2-wasm) that already hold the guarded provider. */
const registered = new WeakSet<InputProviderRegistry>();
const openFiles = new Map<number, { readonly bytes: Buffer; offset: number }>();
let nextHandle = 1;

/** The absolute path libxml2 asks for, from a path or a `file:` URL, or undefined for anything else. */
function pathOfRequest(request: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(request)) {
    if (!request.startsWith('file:')) return undefined;
    try {
      return fileURLToPath(request);
    } catch {
      return undefined;
    }
  }
  return resolve(request);
}

/** The real path of `request` when it names an existing file inside `dir`, else undefined. */
function fileInside(dir: string, request: string): string | undefined {
  const asked = pathOfRequest(request);
  if (asked === undefined) return undefined;
  // libxml2 percent-escapes some characters (a space in the directory name) when it builds an include's URI.
  for (const candidate of new Set([asked, safeDecode(asked)])) {
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    const rel = relative(dir, real);
    if (rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..') return real;
  }
  return undefined;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const guardedProvider: XmlInputProvider = {
  // While a schema loads, claim every request so that no other loader is asked; refuse outsiders in `open`.
  match: () => loadingDir !== undefined,
  open(request) {
    if (loadingDir === undefined) return undefined;
    const file = fileInside(loadingDir, request);
    if (file === undefined) return undefined;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return undefined;
    }
    const handle = nextHandle++;
    openFiles.set(handle, { bytes, offset: 0 });
    return handle;
  },
  read(handle, buffer) {
    const file = openFiles.get(handle);
    if (file === undefined) return -1;
    const count = Math.min(buffer.byteLength, file.bytes.length - file.offset);
    buffer.set(file.bytes.subarray(file.offset, file.offset + count));
    file.offset += count;
    return count;
  },
  close: (handle) => openFiles.delete(handle),
};

/**
 * Runs `load` (which must be synchronous) with libxml2-wasm allowed to read the files inside `dir`,
 * and nothing else; before and after, it may read no file at all.
 *
 * @example
 * const validator = readingSchemaFiles(libxml2, '/usr/share/libvirt/schemas', () => RelaxNGValidator.fromDoc(rng));
 */
export function readingSchemaFiles<T>(libxml2: InputProviderRegistry, dir: string, load: () => T): T {
  if (!registered.has(libxml2)) {
    if (!libxml2.xmlRegisterInputProvider(guardedProvider)) {
      throw new VirtNestedError('USAGE', `libxml2-wasm has no room left for another input provider, so the files of ${dir} cannot be read; load the schema before other code registers its own providers.`);
    }
    registered.add(libxml2);
  }
  loadingDir = realpathSync(dir);
  try {
    return load();
  } finally {
    loadingDir = undefined;
    openFiles.clear();
  }
}
