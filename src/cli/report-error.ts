import { VirtNestedError } from '../errors.js';
import { exitCodeFor, EXIT_USAGE } from './exit-codes.js';
import type { CliIo } from './io.js';

/**
 * Prints an error as one line (`virt-nested: …`) and returns its exit code. A stack trace only with
 * `--debug` or for a bug (an error that is not ours).
 */
export function reportError(error: unknown, io: CliIo, debug: boolean): number {
  if (error instanceof VirtNestedError) {
    io.stderr(`virt-nested: ${error.message}\n`);
    if (debug && error.stack) io.stderr(`${error.stack}\n`);
    return exitCodeFor(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`virt-nested: internal error: ${message.split('\n')[0]} (run with --debug for details)\n`);
  if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return EXIT_USAGE;
}
