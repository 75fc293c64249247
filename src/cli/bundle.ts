/**
 * The entry of the CLI bundle (`dist/cli/bundle.js`): the executable, `bin.ts`, imports it and calls `run`.
 * Each command's module is a chunk of its own, loaded when that command runs (see `main.ts`).
 */
import type { EarlyVirsh } from './early-virsh.js';
import { processIo } from './io.js';
import { main } from './main.js';

/**
 * Runs the CLI on the process's own arguments and streams, and sets the process's exit code. `early` is
 * the virsh the executable started for this command line, if any: the command adopts it, or it is quit
 * at the end.
 *
 * @example
 * await run(); // node dist/cli.cjs set-cpu web-1 --mode host-model
 */
export async function run(argv: readonly string[] = process.argv.slice(2), early?: EarlyVirsh): Promise<void> {
  // `virt-nested … | head`: a reader that goes away is not an error to report with a stack trace
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  try {
    process.exitCode = await main(argv, processIo(early));
  } finally {
    await early?.dispose();
  }
}
