/**
 * `virt-nested enable-host [--dry-run] [--reload] [--fix-conflicts] [--allow-vulnerable-kernel]
 * [--json] [--root DIR]`: turns nested virtualization on persistently (and now, with --reload).
 * Exit 0 done, 1 refused or a conflict left, 2 usage error or not permitted.
 */
import { resolve } from 'node:path';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { VirtNestedError } from '../errors.js';
import { enableHost, runCommand, type HostChangeResult } from '../host/index.js';
import { formatChecklist, hostRoot, hostUri, printJson, withJsonErrors } from './check-host.js';
import type { CliIo } from './io.js';

/**
 * The human output of `enable-host` and `disable-host`: the checklist; in a dry run, then a unified
 * diff per file and `dry run: nothing was changed`.
 *
 * @example
 * io.stdout(formatHostChange(result));
 */
export function formatHostChange(result: HostChangeResult): string {
  let text = formatChecklist(result.checks);
  if (!result.dryRun) return text;
  for (const change of result.changes) {
    text += createTwoFilesPatch(change.before === null ? '/dev/null' : change.path, change.path, change.before ?? '', change.after, undefined, undefined, {
      headerOptions: FILE_HEADERS_ONLY,
    });
  }
  return `${text}dry run: nothing was changed\n`;
}

/**
 * The options `enable-host` and `disable-host` share, from the command line.
 *
 * @example
 * const result = await disableHost(hostChangeOptions('disable-host', options, io));
 */
export function hostChangeOptions(command: string, options: Record<string, unknown>, io: CliIo) {
  const uri = hostUri(command, options, io.env);
  const root = hostRoot(options);
  // modprobe acts on the kernel that runs this command, never on the machine under DIR.
  if (resolve(root) !== '/' && options['reload'] && !options['dryRun']) {
    throw new VirtNestedError('USAGE', `${command} --reload reloads the module of the running kernel, so it cannot be used with --root ${root}; drop --reload (the new value applies when that machine boots), or add --dry-run to see the plan`);
  }
  return {
    root,
    run: runCommand,
    dryRun: Boolean(options['dryRun']),
    reload: Boolean(options['reload']),
    fixConflicts: Boolean(options['fixConflicts']),
    ...(uri === undefined ? {} : { uri }),
  };
}

/**
 * Prints a host change as the command line asked (checklist or one JSON document) and returns its exit code.
 *
 * @example
 * return printHostChange(await enableHost(...), options, io);
 */
export function printHostChange(result: HostChangeResult, options: Record<string, unknown>, io: CliIo): number {
  if (options['json']) printJson(io, result);
  else io.stdout(formatHostChange(result));
  return result.ok ? 0 : 1;
}

/**
 * Runs `enable-host` and returns its exit code.
 *
 * @example
 * process.exitCode = await run([], { dryRun: true }, processIo());
 */
export async function run(_args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  return withJsonErrors(options, io, async () => {
    const allowVulnerableKernel = Boolean(options['allowVulnerableKernel']);
    return printHostChange(await enableHost({ ...hostChangeOptions('enable-host', options, io), allowVulnerableKernel }), options, io);
  });
}
