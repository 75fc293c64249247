/**
 * `virt-nested check-guest [--json] [--root DIR]`: does the machine it runs on have vmx/svm? With guest names,
 * `--all` or `--match`, the running guests are asked from the host instead (check-running-guest).
 * Exit 0 when nested virtualization is available, 1 when not.
 */
import { VirtNestedError } from '../errors.js';
import { checkGuest } from '../host/index.js';
import { formatChecklist, hostRoot, printJson, withJsonErrors } from './check-host.js';
import type { CliIo } from './io.js';

/**
 * Runs `check-guest` and returns its exit code.
 *
 * @example
 * process.exitCode = await run([], {}, processIo());
 */
export async function run(args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  if (args.length > 0 || options['all'] || options['match'] !== undefined) {
    if (options['root'] !== undefined) throw new VirtNestedError('USAGE', 'check-guest --root checks the machine under DIR, so it takes no GUEST names, --all or --match');
    return (await import('./check-running-guest.js')).run(args, options, io);
  }
  const connect = Array.isArray(options['connect']) ? (options['connect'] as string[]) : [];
  if (connect.length > 0 || options['hostsFile'] !== undefined) {
    throw new VirtNestedError('USAGE', 'check-guest with -c or --hosts-file needs GUEST names, --all or --match; without them it checks this machine');
  }
  return withJsonErrors(options, io, async () => {
    const report = await checkGuest({ root: hostRoot(options) });
    if (options['json']) printJson(io, report);
    else io.stdout(formatChecklist(report.checks, `verdict: nested virtualization is ${report.ok ? 'available' : 'not available'} in this machine`));
    return report.ok ? 0 : 1;
  });
}
