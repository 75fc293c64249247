/**
 * `virt-nested check-guest GUEST… [-c URI]… [--all | --match GLOB] [--json]`: ask QEMU, from the
 * host, whether running guests' vCPUs have vmx/svm.
 */
import { checkRunningGuests, runningGuestsExitCode } from '../guest/check-running-guests.js';
import type { RunningGuestReport } from '../guest/check-running-guest.js';
import { formatChecklist } from './check-host.js';
import type { CliIo } from './io.js';
import { hostUris, jobsOption } from './hosts.js';

function verdictOf(report: RunningGuestReport): string {
  if (report.checks[0]?.status !== 'ok') return `verdict: guest "${report.guest}" is not running, so QEMU cannot be asked`;
  const source = report.source === 'qmp' ? "QEMU's answer" : "the live definition's answer; no QEMU monitor";
  return `verdict: nested virtualization is ${report.ok ? 'available' : 'not available'} in guest "${report.guest}" (${source})`;
}

/** Runs `check-guest GUEST…` and returns its exit code. */
export async function run(guests: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uris = await hostUris(options);
  const jobs = jobsOption(options);
  const json = Boolean(options['json']);
  const single = guests.length === 1 && !options['all'] && options['match'] === undefined && uris.length === 1;
  const result = await checkRunningGuests({
    uris,
    guests,
    all: Boolean(options['all']),
    ...(options['match'] !== undefined ? { match: options['match'] as string } : {}),
    ...(jobs ? { jobs } : {}),
    onReport: (report) => {
      if (json) io.stdout(single ? `${JSON.stringify(report, null, 2)}\n` : `${JSON.stringify(report)}\n`);
      else {
        const title = single ? '' : `${uris.length > 1 ? `${report.uri}: ` : ''}guest "${report.guest}"\n`;
        io.stdout(title + formatChecklist(report.checks, verdictOf(report)));
      }
    },
    onError: ({ uri, guest, error }) => {
      if (json && !single) io.stdout(`${JSON.stringify({ uri, guest, ok: null, error })}\n`);
      else io.stderr(`virt-nested: ${error.message}\n`);
    },
  });
  for (const host of result.unreachable) io.stderr(`virt-nested: ${host.message}\n`);
  if (json && !single) io.stdout(`${JSON.stringify({ summary: result.summary })}\n`);
  return runningGuestsExitCode(result);
}
