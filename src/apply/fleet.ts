/**
 * set-cpu over many guests on many hosts, through libvirt's own remote URIs: one virsh session per
 * host, hosts in parallel, the guests of one host one after another, every safety step of
 * `applyCpuMode` for each guest.
 */
import { GuestNotShutOffError, VirshError, VirtNestedError, exitCodeForCode } from '../errors.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { eachHost, type HostFailure } from '../virsh/each-host.js';
import { openVirsh, type VirshSession } from '../virsh/session.js';
import { applyCpuMode } from './apply-cpu-mode.js';
import { withHostLifecycleEvents } from './watch-guest.js';
import { selectGuests } from '../virsh/select-guests.js';

/** Options of {@link applyCpuModeToHosts}. */
export interface FleetOptions {
  readonly mode: CpuMode;
  /** libvirt URIs; `undefined` in the list means virsh's default (`LIBVIRT_DEFAULT_URI`). */
  readonly uris: ReadonlyArray<string | undefined>;
  /** Guest names (on every host). */
  readonly guests?: readonly string[];
  /** Every persistent guest on each host. */
  readonly all?: boolean;
  /** Persistent guests whose name matches this glob (with `all` too: only those). */
  readonly match?: string;
  readonly dryRun?: boolean;
  /** Shut running guests down (ACPI), edit them, and start them again. Default: skip them. */
  readonly shutdown?: boolean;
  /** How long a guest may take to shut down (default 120 s); then it is left running and reported. */
  readonly shutdownTimeoutMs?: number;
  /** Hosts worked on at once (default 4). */
  readonly jobs?: number;
  /**
   * Stops before the next guest and before the next host; a guest being edited (or shut down for the
   * edit and started again) is finished first, never left half-done.
   */
  readonly signal?: AbortSignal;
  readonly backupDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called as each guest is done. */
  readonly onResult?: (result: GuestResult) => void;
  /** Opens a session (default: `openVirsh`). */
  readonly open?: (uri: string | undefined) => Promise<VirshSession>;
}

/** What happened to one guest. One JSON line of `set-cpu --json` over several guests. */
export interface GuestResult {
  readonly uri: string;
  readonly guest: string;
  readonly mode: CpuMode;
  readonly changed: boolean;
  /** Why the guest was left alone ('running'), or null. */
  readonly skipped: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly before: DomainCpu | null;
  readonly after: DomainCpu | null;
  readonly backup: string | null;
  readonly dryRun: boolean;
  /** The guest was shut down for the edit and started again (`shutdown`). */
  readonly restarted: boolean;
  readonly warnings: readonly string[];
}

export type { HostFailure } from '../virsh/each-host.js';

/** Counts over every guest and host. The last JSON line of `set-cpu --json` over several guests. */
export interface FleetSummary {
  readonly hosts: number;
  /** Hosts that could not be reached (not those left out because of an abort). */
  readonly unreachable: readonly HostFailure[];
  readonly guests: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly failed: number;
  readonly aborted: boolean;
}

/** Everything {@link applyCpuModeToHosts} did. */
export interface FleetReport {
  readonly results: readonly GuestResult[];
  readonly summary: FleetSummary;
}

const POLL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/**
 * A session whose connecting can be aborted, but not the session itself: an abort must let the guest
 * being edited finish (its define, verification, and start again), so it is checked between guests.
 */
async function openUntilConnected(uri: string | undefined, signal: AbortSignal | undefined): Promise<VirshSession> {
  if (signal === undefined) return openVirsh(uri === undefined ? {} : { uri });
  const connecting = new AbortController();
  const forward = () => connecting.abort();
  signal.addEventListener('abort', forward, { once: true });
  try {
    return await openVirsh({ ...(uri === undefined ? {} : { uri }), signal: connecting.signal });
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

/** ACPI shutdown; drivers without shutdown modes (libvirt's test driver) get their own graceful default. */
async function shutdownGracefully(session: VirshSession, guest: string): Promise<void> {
  try {
    await session.shutdown(guest, { mode: 'acpi' });
  } catch (error) {
    if (!(error instanceof VirshError && /unsupported flags/.test(error.stderr))) throw error;
    await session.shutdown(guest);
  }
}

async function waitForShutOff(session: VirshSession, guest: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await session.domstate(guest)) !== 'shut off') {
    if (Date.now() > deadline) {
      throw new VirtNestedError('GUEST_NOT_SHUT_OFF', `guest "${guest}" did not shut down within ${Math.round(timeoutMs / 1000)} s; it was left running and not changed`);
    }
    await sleep(POLL_MS);
  }
}

const codeOf = (error: unknown) => (error instanceof VirtNestedError ? error.code : 'INTERNAL');
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function oneGuest(session: VirshSession, guest: string, options: FleetOptions): Promise<GuestResult> {
  const base = {
    uri: session.uri, guest, mode: options.mode, changed: false, skipped: null, error: null, before: null, after: null,
    backup: null, dryRun: Boolean(options.dryRun), restarted: false, warnings: [],
  };
  const applyOptions = {
    session,
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.backupDir ? { backupDir: options.backupDir } : {}),
    ...(options.env ? { env: options.env } : {}),
  };
  try {
    let wasRunning = false;
    if (options.shutdown && !options.dryRun) {
      const state = await session.domstate(guest);
      if (state !== 'shut off') {
        wasRunning = state === 'running';
        await shutdownGracefully(session, guest);
        // not cut short by an abort: the guest was asked to power off and is finished first
        await waitForShutOff(session, guest, options.shutdownTimeoutMs ?? 120_000);
      }
    }
    const outcome = await applyCpuMode(guest, options.mode, applyOptions).then((applied) => ({ applied }), (failure: unknown) => ({ failure }));
    // start it again if we shut it down, whatever the edit did; a start failure must not hide the edit
    const startFailure = wasRunning && (await session.domstate(guest).catch(() => 'unknown')) !== 'running'
      ? await session.start(guest).then(() => undefined, (failure: unknown) => failure)
      : undefined;
    if ('failure' in outcome) {
      if (startFailure !== undefined) {
        throw new VirtNestedError(codeOf(outcome.failure), `${messageOf(outcome.failure)}; and starting the guest again failed: ${messageOf(startFailure)}`);
      }
      throw outcome.failure;
    }
    const { applied } = outcome;
    const error = startFailure === undefined ? null : {
      code: codeOf(startFailure),
      message: `guest "${guest}" was changed, but could not be started again: ${messageOf(startFailure)}`,
    };
    return { ...base, ...applied, skipped: null, error, restarted: wasRunning && startFailure === undefined, warnings: applied.warnings };
  } catch (error) {
    if (error instanceof GuestNotShutOffError && (!options.shutdown || options.dryRun)) {
      return { ...base, skipped: error.state === 'running' ? 'running' : error.state, error: null };
    }
    return { ...base, error: { code: codeOf(error), message: messageOf(error) } };
  }
}

/**
 * Sets the CPU mode of many guests on many hosts in one call. Running guests are skipped and
 * reported (or, with `shutdown`, shut down, edited and started again). A host that cannot be reached
 * is reported and does not stop the others.
 *
 * @example
 * const { results, summary } = await applyCpuModeToHosts({
 *   mode: 'host-model', uris: ['qemu+ssh://root@hv1/system', 'qemu+ssh://root@hv2/system'], all: true,
 * });
 * summary.changed // 40
 */
export async function applyCpuModeToHosts(options: FleetOptions): Promise<FleetReport> {
  if (!options.guests?.length && !options.all && options.match === undefined) {
    throw new VirtNestedError('USAGE', 'name the guests, or use --all or --match GLOB');
  }
  const results: GuestResult[] = [];
  let aborted = false;
  const open = options.open;
  const failures: HostFailure[] = await eachHost(options.uris, {
    ...(options.jobs ? { jobs: options.jobs } : {}),
    open: async (uri) => {
      if (options.signal?.aborted) throw new VirtNestedError('ABORTED', `${uri ?? 'the default URI'} was not connected to because the operation was aborted`);
      return open ? open(uri) : openUntilConnected(uri, options.signal);
    },
  }, async (session) => withHostLifecycleEvents(session, async () => {
    for (const guest of await selectGuests(session, options, { all: true, persistent: true })) {
      if (options.signal?.aborted) { aborted = true; break; }
      const result = await oneGuest(session, guest, options);
      results.push(result);
      options.onResult?.(result);
    }
  }, !options.dryRun));
  const unreachable = failures.filter((failure) => failure.code !== 'ABORTED');

  const count = (p: (r: GuestResult) => boolean) => results.filter(p).length;
  return {
    results,
    summary: {
      hosts: options.uris.length,
      unreachable,
      guests: results.length,
      changed: count((r) => r.changed && !r.error),
      unchanged: count((r) => !r.changed && !r.skipped && !r.error),
      skipped: count((r) => r.skipped !== null),
      failed: count((r) => r.error !== null),
      aborted: aborted || Boolean(options.signal?.aborted),
    },
  };
}

/**
 * The exit code for a fleet run: 0 all done, 1 some guest refused/failed/skipped or some host
 * unreachable, 2 no host reachable, or every guest failed for a usage-class reason (e.g. not found).
 *
 * @example
 * process.exitCode = fleetExitCode(report);
 */
export function fleetExitCode(report: FleetReport): number {
  const { results, summary } = report;
  if (results.length === 0 && summary.unreachable.length > 0 && summary.unreachable.length === summary.hosts) return 2;
  if (results.length > 0 && results.every((r) => r.error && !r.changed && exitCodeForCode(r.error.code) === 2)) return 2;
  if (summary.failed || summary.skipped || summary.unreachable.length || summary.aborted) return 1;
  return 0;
}
