/**
 * The CLI's exit-code policy, in one place: 0 success, 1 a check failed or a change was refused, 2 a
 * usage or input error, or libvirt could not be reached. The library reports what happened (typed
 * error codes, reports); only this module turns that into 0/1/2.
 */
import { VirtNestedError, type ErrorCode } from '../errors.js';
import type { FleetReport } from '../apply/fleet.js';
import type { RunningGuestsReport } from '../guest/check-running-guests.js';

/**
 * Exit code of the CLI: success.
 *
 * @example
 * process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
 */
export const EXIT_OK = 0;
/**
 * Exit code of the CLI: a check failed or a change was refused.
 *
 * @example
 * process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
 */
export const EXIT_FAILED = 1;
/**
 * Exit code of the CLI: a usage or input error, or libvirt could not be reached.
 *
 * @example
 * process.exitCode = EXIT_USAGE;
 */
export const EXIT_USAGE = 2;

/** The codes that mean "refused" or "failed its check" (exit 1); every other code is exit 2. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'GUEST_NOT_SHUT_OFF',
  'GUEST_NOT_RUNNING',
  'GUEST_CHANGED',
  'FILE_CHANGED',
  'MODE_UNSUPPORTED',
  'DEFINE_FAILED',
  'VERIFY_FAILED',
  'GUESTS_RUNNING',
  'KERNEL_VULNERABLE',
  'HOST_UNSUPPORTED',
]);

/**
 * The exit code for an error code, as reported in JSON results (`{ error: { code, message } }`).
 *
 * @example
 * exitCodeForCode('GUEST_NOT_SHUT_OFF') // 1
 */
export function exitCodeForCode(code: ErrorCode): number {
  return REFUSALS.has(code) ? EXIT_FAILED : EXIT_USAGE;
}

/**
 * The CLI's one mapping from an error to an exit code: refusals are 1, everything else
 * (usage, input, libvirt unreachable, guest missing, a bug) is 2.
 *
 * @example
 * process.exitCode = exitCodeFor(error);
 */
export function exitCodeFor(error: unknown): number {
  return error instanceof VirtNestedError ? exitCodeForCode(error.code) : EXIT_USAGE;
}

/**
 * The exit code for a fleet run: 0 all done, 1 some guest refused/failed/skipped or some host
 * unreachable, 2 no host reachable, or the one guest asked for failed for a usage-class reason (not
 * found: in a fleet, a missing guest is one failed guest, exit 1).
 *
 * @example
 * process.exitCode = fleetExitCode(report);
 */
export function fleetExitCode(report: FleetReport): number {
  const { results, summary } = report;
  if (results.length === 0 && summary.unreachable.length > 0 && summary.unreachable.length === summary.hosts) return EXIT_USAGE;
  const [only] = results;
  if (results.length === 1 && summary.hosts === 1 && only?.error && !only.changed && exitCodeForCode(only.error.code) === EXIT_USAGE) return EXIT_USAGE;
  if (summary.failed || summary.skipped || summary.unreachable.length || summary.aborted) return EXIT_FAILED;
  return EXIT_OK;
}

/**
 * The exit code of a check over many guests: 0 every guest has vmx/svm, 1 some has not (or failed, or
 * a host was unreachable), 2 nothing could be checked for a usage-class reason (missing guest,
 * unreachable libvirt).
 *
 * @example
 * process.exitCode = runningGuestsExitCode(await checkRunningGuests({ uris: [undefined], guests: ['web-1'] }));
 */
export function runningGuestsExitCode(result: RunningGuestsReport): number {
  const { reports, errors, unreachable } = result;
  if (reports.length === 0 && (unreachable.length > 0 || errors.length > 0)) {
    const codes = [...unreachable, ...errors.map((e) => e.error)].map((e) => exitCodeForCode(e.code));
    return codes.every((c) => c === EXIT_USAGE) ? EXIT_USAGE : EXIT_FAILED;
  }
  return reports.every((r) => r.ok) && errors.length === 0 && unreachable.length === 0 ? EXIT_OK : EXIT_FAILED;
}
