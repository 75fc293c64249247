/**
 * What every `--json` document shares: `schemaVersion`, and the form an error takes when a command
 * stops before it has a report to print.
 */
import { errorCodeOf, type ErrorReport } from '../errors.js';
import type { CliIo } from './io.js';

/**
 * The version of the JSON documents (`schemas/*.schema.json`); raised only for a change that breaks readers.
 *
 * @example
 * io.stdout(JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...report }));
 */
export const SCHEMA_VERSION = 1;

/**
 * Prints `{ "schemaVersion": 1, "error": { "code", "message" } }`: the one JSON document of a command
 * that failed before it had a report (a usage error, libvirt unreachable). `error` is an error, or an
 * already reported `{ code, message }` (a host that could not be reached). The caller still reports the
 * error on stderr and exits with its code.
 *
 * @example
 * catch (error) { if (options['json']) printJsonError(error, io); throw error; }
 */
export function printJsonError(error: unknown, io: CliIo): void {
  const reported = typeof error === 'object' && error !== null && 'code' in error && 'message' in error && !(error instanceof Error);
  const { code, message }: ErrorReport = reported
    ? error as ErrorReport
    : { code: errorCodeOf(error), message: error instanceof Error ? error.message : String(error) };
  io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, error: { code, message } }, null, 2)}\n`);
}
