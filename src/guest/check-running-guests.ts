/**
 * check-guest over many guests on many hosts: one virsh session per host, hosts in parallel.
 */
import { VirtNestedError, type ErrorReport } from '../errors.js';
import { eachHost, type HostFailure } from '../virsh/each-host.js';
import { checkSelected, checkSelection, selectGuests, type GuestSelection } from '../virsh/select-guests.js';
import { checkRunningGuest, type RunningGuestReport } from './check-running-guest.js';

/** A guest that could not be checked (not found, its host went away…). */
export interface GuestCheckError {
  readonly uri: string;
  readonly guest: string;
  readonly error: ErrorReport;
}

/** Options of {@link checkRunningGuests}. */
export interface CheckRunningGuestsOptions extends GuestSelection {
  /** libvirt URIs; `undefined` in the list means virsh's default (`LIBVIRT_DEFAULT_URI`). */
  readonly uris: ReadonlyArray<string | undefined>;
  /** Hosts asked at once (default 4). */
  readonly jobs?: number;
  /** Called as each guest is checked. */
  readonly onReport?: (report: RunningGuestReport) => void;
  /** Called for each guest that could not be checked, with the error itself (its stack, for `--debug`). */
  readonly onError?: (failed: GuestCheckError, error: unknown) => void;
}

/** Everything {@link checkRunningGuests} found, with counts. */
export interface RunningGuestsReport {
  readonly reports: readonly RunningGuestReport[];
  readonly errors: readonly GuestCheckError[];
  readonly unreachable: readonly HostFailure[];
  readonly summary: {
    readonly hosts: number;
    readonly unreachable: readonly HostFailure[];
    readonly guests: number;
    readonly ok: number;
    readonly notOk: number;
    readonly failed: number;
  };
}

/**
 * Checks many running guests on many hosts (`all`/`match` select among the active guests).
 *
 * @example
 * const { summary } = await checkRunningGuests({ uris: ['qemu+ssh://root@hv1/system'], all: true });
 * summary.notOk // guests whose vCPU has neither vmx nor svm
 */
export async function checkRunningGuests(options: CheckRunningGuestsOptions): Promise<RunningGuestsReport> {
  await checkSelection(options);
  const reports: RunningGuestReport[] = [];
  const errors: GuestCheckError[] = [];
  const unreachable = await eachHost(options.uris, options.jobs ? { jobs: options.jobs } : {}, async (session) => {
    for (const guest of await selectGuests(session, options, {})) {
      try {
        const report = await checkRunningGuest(guest, { session });
        reports.push(report);
        options.onReport?.(report);
      } catch (error) {
        if (!(error instanceof VirtNestedError)) throw error;
        const failed = { uri: session.uri, guest, error: { code: error.code, message: error.message } };
        errors.push(failed);
        options.onError?.(failed, error);
      }
    }
  });
  checkSelected(options, reports.length + errors.length, options.uris.length - unreachable.length);
  return {
    reports,
    errors,
    unreachable,
    summary: {
      hosts: options.uris.length,
      unreachable,
      guests: reports.length + errors.length,
      ok: reports.filter((r) => r.ok).length,
      notOk: reports.filter((r) => !r.ok).length,
      failed: errors.length,
    },
  };
}
