/**
 * `virt-nested check-guest GUEST… [-c URI]… [--all | --match GLOB] [--json]`: ask QEMU, from the
 * host, whether running guests' vCPUs have vmx/svm.
 */
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, exitCodeForCode, VirtNestedError } from '../errors.js';
import { globToRegExp } from '../apply/glob.js';
import { checkRunningGuest, type RunningGuestReport } from '../guest/check-running-guest.js';
import { eachHost } from '../virsh/each-host.js';
import { formatChecklist } from './check-host.js';
import type { CliIo } from './io.js';
import { hostUris, jobsOption } from './hosts.js';

interface GuestError { readonly uri: string; readonly guest: string; readonly error: { readonly code: string; readonly message: string } }

/** Runs `check-guest GUEST…` and returns its exit code. */
export async function run(guests: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uris = await hostUris(options);
  const jobs = jobsOption(options);
  const json = Boolean(options['json']);
  const single = guests.length === 1 && !options['all'] && options['match'] === undefined && uris.length === 1;
  const pattern = options['match'] === undefined ? undefined : globToRegExp(options['match'] as string);
  const reports: RunningGuestReport[] = [];
  const errors: GuestError[] = [];

  const emit = (report: RunningGuestReport) => {
    if (json) io.stdout(single ? `${JSON.stringify(report, null, 2)}\n` : `${JSON.stringify(report)}\n`);
    else {
      const title = single ? '' : `${uris.length > 1 ? `${report.uri}: ` : ''}guest "${report.guest}"\n`;
      const running = report.checks[0]?.status === 'ok';
      const verdict = !running
        ? `verdict: guest "${report.guest}" is not running, so QEMU cannot be asked`
        : `verdict: nested virtualization is ${report.ok ? 'available' : 'not available'} in guest "${report.guest}" (${report.source === 'qmp' ? "QEMU's answer" : "the live definition's answer; no QEMU monitor"})`;
      io.stdout(title + formatChecklist(report.checks, verdict));
    }
  };

  const failedHosts = await eachHost(uris, jobs ? { jobs } : {}, async (session) => {
    const names = [...guests];
    if (options['all'] || pattern) {
      for (const name of await session.listGuests({ state: 'running' })) {
        if ((options['all'] || pattern?.test(name)) && !names.includes(name)) names.push(name);
      }
    }
    for (const guest of names) {
      try {
        const report = await checkRunningGuest(guest, { session });
        reports.push(report);
        emit(report);
      } catch (error) {
        if (!(error instanceof VirtNestedError)) throw error;
        errors.push({ uri: session.uri, guest, error: { code: error.code, message: error.message } });
        if (json && !single) io.stdout(`${JSON.stringify({ uri: session.uri, guest, ok: null, error: { code: error.code, message: error.message } })}\n`);
        else io.stderr(`virt-nested: ${error.message}\n`);
      }
    }
  });
  for (const host of failedHosts) io.stderr(`virt-nested: ${host.message}\n`);
  if (json && !single) {
    const summary = { hosts: uris.length, unreachable: failedHosts, guests: reports.length + errors.length, ok: reports.filter((r) => r.ok).length, notOk: reports.filter((r) => !r.ok).length, failed: errors.length };
    io.stdout(`${JSON.stringify({ summary })}\n`);
  }
  if (reports.length === 0 && (failedHosts.length > 0 || errors.length > 0)) {
    const codes = [...failedHosts, ...errors.map((e) => e.error)].map((e) => exitCodeForCode(e.code));
    return codes.every((c) => c === EXIT_USAGE) ? EXIT_USAGE : EXIT_FAILED;
  }
  return reports.every((r) => r.ok) && errors.length === 0 && failedHosts.length === 0 ? EXIT_OK : EXIT_FAILED;
}
