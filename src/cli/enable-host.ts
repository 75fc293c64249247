/**
 * `virt-nested enable-host [--dry-run] [--reload] [--fix-conflicts] [--json]`: turns nested
 * virtualization on persistently (and now, with --reload). Exit 0 done, 1 refused or a conflict
 * left, 2 usage error or not permitted.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { enableHost, runCommand, type EnableHostResult } from '../host/index.js';
import { formatChecklist, hostRoot, hostUri } from './check-host.js';
import type { CliIo } from './io.js';

/**
 * The human output of `enable-host`: the checklist; in a dry run, then a unified diff per file and
 * `dry run: nothing was changed`.
 *
 * @example
 * io.stdout(formatEnableHost(result));
 */
export function formatEnableHost(result: EnableHostResult): string {
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
 * Runs `enable-host` and returns its exit code.
 *
 * @example
 * process.exitCode = await run([], { dryRun: true }, processIo());
 */
export async function run(_args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uri = hostUri('enable-host', options, io.env);
  const result = await enableHost({
    root: hostRoot(io.env),
    run: runCommand,
    dryRun: Boolean(options['dryRun']),
    reload: Boolean(options['reload']),
    fixConflicts: Boolean(options['fixConflicts']),
    ...(uri === undefined ? {} : { uri }),
  });
  io.stdout(options['json'] ? `${JSON.stringify(result, null, 2)}\n` : formatEnableHost(result));
  return result.ok ? 0 : 1;
}
