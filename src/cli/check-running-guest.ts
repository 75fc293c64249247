/**
 * `virt-nested check-guest GUEST… [-c URI]… [--all | --match GLOB] [--json | --json-lines]`: ask QEMU,
 * from the host, whether running guests' vCPUs have vmx/svm.
 */
import { CPU_MODES } from '../cpu/modes.js';
import { checkRunningGuests, type GuestCheckError } from '../guest/check-running-guests.js';
import { runningGuestsExitCode } from './exit-codes.js';
import type { RunningGuestReport } from '../guest/check-running-guest.js';
import type { Check } from '../host/report.js';
import { formatChecklist } from './check-host.js';
import type { CliIo } from './io.js';
import { hostUris, jobsOption } from './hosts.js';
import { printJsonError, SCHEMA_VERSION } from './json-output.js';

function verdictOf(report: RunningGuestReport): string {
  if (report.checks[0]?.status !== 'ok') return `verdict: guest "${report.guest}" is not running, so QEMU cannot be asked`;
  const source = report.source === 'qmp' ? "QEMU's answer" : "the live definition's answer; no QEMU monitor";
  return `verdict: nested virtualization is ${report.ok ? 'available' : 'not available'} in guest "${report.guest}" (${source})`;
}

/**
 * The checks as a person reads them: a pending restart that would give the guest vmx/svm is the way
 * to the fix, not a failure, so it is not marked ✗.
 */
function textChecks(report: RunningGuestReport): Check[] {
  const fixes = CPU_MODES.includes(report.definition.mode as (typeof CPU_MODES)[number]) && report.definition.disabled.length === 0;
  return report.checks.map((check) => (check.id === 'pending-restart' && check.status === 'problem' && fixes ? { ...check, status: 'not-applicable' } : check));
}

/** One item of `results` for a guest that could not be checked. */
const errorResult = ({ uri, guest, error }: GuestCheckError) => ({ guest, uri, ok: false, error });

/** Runs `check-guest GUEST…` and returns its exit code. */
export async function run(guests: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  try {
    return await checkGuests(guests, options, io);
  } catch (error) {
    if (options['json'] || options['jsonLines']) printJsonError(error, io);
    throw error;
  }
}

async function checkGuests(guests: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uris = await hostUris(options);
  const jobs = jobsOption(options);
  const json = Boolean(options['json']);
  const jsonLines = Boolean(options['jsonLines']);
  const single = guests.length === 1 && !options['all'] && options['match'] === undefined && uris.length === 1;
  const results: unknown[] = [];
  const result = await checkRunningGuests({
    uris,
    guests,
    all: Boolean(options['all']),
    ...(options['match'] !== undefined ? { match: options['match'] as string } : {}),
    ...(jobs ? { jobs } : {}),
    onReport: (report) => {
      results.push(report);
      if (jsonLines) io.stdout(`${JSON.stringify(report)}\n`);
      else if (json && single) io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...report }, null, 2)}\n`);
      else if (!json) {
        const title = single ? '' : `${uris.length > 1 ? `${report.uri}: ` : ''}guest "${report.guest}"\n`;
        io.stdout(title + formatChecklist(textChecks(report), verdictOf(report)));
      }
    },
    onError: (failed, error) => {
      if (options['debug'] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
      results.push(errorResult(failed));
      if (jsonLines) io.stdout(`${JSON.stringify(errorResult(failed))}\n`);
      if (json && single) io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...errorResult(failed) }, null, 2)}\n`);
      io.stderr(`virt-nested: ${failed.error.message}\n`);
    },
  });
  for (const host of result.unreachable) io.stderr(`virt-nested: ${host.message}\n`);
  if (jsonLines) io.stdout(`${JSON.stringify({ summary: result.summary })}\n`);
  else if (json && single && result.unreachable[0] && results.length === 0) printJsonError(result.unreachable[0], io);
  else if (json && !(single && results.length === 1)) io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, results, summary: result.summary }, null, 2)}\n`);
  return runningGuestsExitCode(result);
}
