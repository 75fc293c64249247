/**
 * The entry of the CLI bundle (`dist/cli-bundle.cjs`): the launcher, `bin.ts`, loads it, lends it an
 * `import()` and calls `run`. The build's training runs call `main` with an io of their own, and
 * `cpuModesSupported`.
 */
import { main } from './main.js';

export { main };
/** For the build's training runs, which meet no domcapabilities: libvirt's test driver has none. */
export { cpuModesSupported } from '../virsh/domcapabilities.js';
/** For the launcher, which lends the bundle its `import()`. */
export { lendImport } from '../lint/import-libxml2.js';

/**
 * Runs the CLI on the process's own arguments and streams, and sets the process's exit code.
 *
 * @example
 * await run(); // node dist/cli.cjs set-cpu web-1 --mode host-model
 */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `virt-nested … | head`: a reader that goes away is not an error to report with a stack trace
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  process.exitCode = await main(argv);
}
