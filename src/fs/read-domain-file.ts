/**
 * Reading a domain XML file without ever blocking or reading without bound: only a regular file is
 * opened for reading (a FIFO would block until a writer comes, `/dev/zero` never ends), its size is
 * checked before a byte is read, and the bytes are decoded by the document's own encoding.
 */
import { constants } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { VirtNestedError } from '../errors.js';
import { DEFAULT_MAX_BYTES } from '../xml/scan.js';
import { decodeXml, type XmlEncoding } from '../xml/encoding.js';

/**
 * A domain XML file as read: its bytes (to check later that it did not change), its text and the
 * encoding to write it back in.
 *
 * @example
 * const { text, encoding } = await readDomainFile('templates/web.xml');
 */
export interface DomainFile {
  readonly bytes: Buffer;
  readonly text: string;
  readonly encoding: XmlEncoding;
}

/**
 * Options of {@link readDomainFile}.
 *
 * @example
 * const options: ReadDomainFileOptions = { maxBytes: 1024 * 1024 };
 */
export interface ReadDomainFileOptions {
  /** Refuse files larger than this many bytes (default 10 MiB, the scanner's own limit). */
  readonly maxBytes?: number;
}

/** What a file that is not a regular file is, in a user's words. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuse(path: string, why: string, cause?: unknown): never {
  throw new VirtNestedError('FILE_UNREADABLE', `cannot read ${path}: ${why}`, cause === undefined ? undefined : { cause });
}

/** Refuses what is not a regular file, or is larger than the limit, from its metadata alone. */
function checkStats(path: string, info: Stats, maxBytes: number): void {
  if (!info.isFile()) refuse(path, `it is ${kindOf(info)}, not a regular file; virt-nested reads domain XML only from regular files`);
  if (info.size > maxBytes) refuse(path, `it is ${info.size} bytes, larger than the limit of ${maxBytes} bytes (domain XML is normally a few KiB)`);
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  if (code === 'ENOTDIR') return 'a part of its path is not a directory';
  return code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Reads and decodes a domain XML file (a symlink is followed). Refuses, before reading a byte,
 * anything that is not a regular file and anything over `maxBytes`; then decodes by the byte order
 * mark or XML declaration (see `decodeXml`). Every refusal is a `FILE_UNREADABLE`
 * {@link VirtNestedError} in one sentence naming the file.
 *
 * @example
 * const { text } = await readDomainFile('templates/web.xml');
 */
export async function readDomainFile(path: string, options: ReadDomainFileOptions = {}): Promise<DomainFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const bytes = await readRegularFile(path, maxBytes);
  return { bytes, ...decodeXml(bytes, path) };
}

/**
 * The bytes of a regular file, refused (a `FILE_UNREADABLE` {@link VirtNestedError}) before a byte is
 * read when it is anything else or larger than `maxBytes`.
 *
 * @example
 * const bytes = await readRegularFile('templates/web.xml', 10 * 1024 * 1024);
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  let info: Stats;
  try {
    info = await fsPromises.stat(path);
  } catch (error) {
    return refuse(path, reasonOf(error), error);
  }
  checkStats(path, info, maxBytes);
  let handle: fsPromises.FileHandle;
  try {
    // O_NONBLOCK: should a FIFO take the file's place after the check, opening it does not wait for a writer
    handle = await fsPromises.open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    return refuse(path, reasonOf(error), error);
  }
  try {
    // the file opened is what counts: it may have been replaced since the check above
    checkStats(path, await handle.stat(), maxBytes);
    return await readAtMost(handle, path, maxBytes);
  } catch (error) {
    if (error instanceof VirtNestedError) throw error;
    return refuse(path, reasonOf(error), error);
  } finally {
    await handle.close();
  }
}

/** Reads to the end, refusing once more than `maxBytes` arrive (a file may grow while it is read). */
async function readAtMost(handle: fsPromises.FileHandle, path: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) refuse(path, `it grew past the limit of ${maxBytes} bytes while it was read`);
  }
}

/**
 * Reads and decodes domain XML from a stream (standard input for `-`), refusing once more than
 * `maxBytes` arrive; `name` is what messages call it.
 *
 * @example
 * const { text } = await readDomainStream(process.stdin, '<stdin>');
 */
export async function readDomainStream(stream: AsyncIterable<Uint8Array | string>, name: string, options: ReadDomainFileOptions = {}): Promise<DomainFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    chunks.push(bytes);
    total += bytes.length;
    if (total > maxBytes) refuse(name, `it is larger than the limit of ${maxBytes} bytes (domain XML is normally a few KiB)`);
  }
  const bytes = Buffer.concat(chunks, total);
  return { bytes, ...decodeXml(bytes, name) };
}
