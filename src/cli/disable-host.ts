/**
 * `virt-nested disable-host [--dry-run] [--reload] [--fix-conflicts] [--json] [--root DIR]`: turns
 * nested virtualization off persistently (and now, with --reload): the way back from enable-host, and
 * the mitigation kernel advisories give. Exit 0 done, 1 refused or a conflict left, 2 usage error or
 * not permitted.
 */
import { disableHost } from '../host/index.js';
import { withJsonErrors } from './check-host.js';
import { hostChangeOptions, printHostChange } from './enable-host.js';
import type { CliIo } from './io.js';

/**
 * Runs `disable-host` and returns its exit code.
 *
 * @example
 * process.exitCode = await run([], { reload: true }, processIo());
 */
export async function run(_args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  return withJsonErrors(options, io, async () => printHostChange(await disableHost(hostChangeOptions('disable-host', options, io)), options, io));
}
