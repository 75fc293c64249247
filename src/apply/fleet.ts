/**
 * set-cpu over many guests on many hosts, through libvirt's own remote URIs: hosts in parallel, a few
 * guests of one host at once over two virsh sessions, every safety step of `applyCpuMode` for each
 * guest, and the results of a host in the order its guests were selected.
 */
import { errorCodeOf, GuestNotShutOffError, VirtNestedError, type ErrorReport } from '../errors.js';
import type { NestedPolicy } from '../cpu/nested.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { eachHost, type HostFailure } from '../virsh/each-host.js';
import type { VirshSession } from '../virsh/session.js';
import { applyWithShutdown, messageOf } from './shutdown-around-edit.js';
import { NESTED_SAVE_WARNING, planCpuMode, type ApplyWarning, type CpuModePlan } from './plan-cpu-mode.js';
import { eachInOrder } from './lanes.js';
import { withHostLifecycleEvents } from './watch-guest.js';
import type { LifecycleWatch } from '../virsh/lifecycle-events.js';
import { connectHost, connectHosts, fleetConnections, pick, type HostConnector } from './connect-hosts.js';
import { checkSelected, checkSelection, selectGuests } from '../virsh/select-guests.js';

/** Options of {@link applyCpuModeToHosts}. */
export interface FleetOptions {
  /** The mode to set; default host-model, except that with `nested` 'on'/'off' alone a host-model or host-passthrough guest keeps its own. */
  readonly mode?: CpuMode;
  /** What to do with vmx/svm `<feature>`s (see `setCpuMode`); default 'keep'. */
  readonly nested?: NestedPolicy;
  /** libvirt URIs; `undefined` in the list means virsh's default (`LIBVIRT_DEFAULT_URI`). */
  readonly uris: ReadonlyArray<string | undefined>;
  /** Guest names (on every host). */
  readonly guests?: readonly string[];
  /** Every persistent guest on each host. */
  readonly all?: boolean;
  /** Persistent guests whose name matches this glob (with `all` too: only those). */
  readonly match?: string;
  readonly dryRun?: boolean;
  /** Put the unified diff of each guest's definition on its result (`diff`). */
  readonly diff?: boolean;
  /**
   * Shut running guests down (ACPI), edit them, and start them again; only those that need the edit and
   * whose host can run it. Default: skip them.
   */
  readonly shutdown?: boolean;
  /** How long a guest may take to shut down (default 120 s); then it is left running and reported. */
  readonly shutdownTimeoutMs?: number;
  /** Hosts worked on at once (default 4). */
  readonly jobs?: number;
  /**
   * Stops before the next guest and before the next host, and stops each guest being worked on that
   * has changed nothing yet (no backup written, not shut down): it is not reported. A guest being changed
   * (or shut down for the edit and started again) is finished first, never left half-done.
   */
  readonly signal?: AbortSignal;
  readonly backupDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called as each guest is done. */
  readonly onResult?: (result: GuestResult) => void;
  /** Called with the error itself (its stack, its cause) when a guest fails; its result carries only code and message. */
  readonly onError?: (error: unknown, guest: string, uri: string) => void;
  /** Opens a session (default: `openVirsh`). */
  readonly open?: (uri: string | undefined) => Promise<VirshSession>;
}

/**
 * What happened to one guest: what `set-cpu GUEST --json` prints (with `schemaVersion`), and one item
 * of `results` (one line of `--json-lines`) over several guests.
 */
export interface GuestResult {
  readonly guest: string;
  readonly uri: string;
  readonly mode: CpuMode;
  /** The definition changed (with dryRun: would change). */
  readonly changed: boolean;
  /** Why the guest was left alone (its state, e.g. 'running'); absent when it was not. */
  readonly skipped?: string;
  /** Why the guest failed; absent when it did not. */
  readonly error?: ErrorReport;
  readonly dryRun: boolean;
  readonly before: DomainCpu | null;
  readonly after: DomainCpu | null;
  readonly backup: string | null;
  /** The guest is shut down for the edit and started again (with dryRun: would be). */
  readonly shutdown: boolean;
  /** The guest was shut down for the edit and started again. */
  readonly restarted: boolean;
  /** The unified diff of the definition (with `diff`); '' when nothing changes. */
  readonly diff?: string;
  readonly warnings: readonly ApplyWarning[];
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

/**
 * Guests of one host worked on at once: while one waits for libvirt (its define, the events of it, a
 * backup's fsync), the next one's reads go ahead.
 */
const GUESTS_AT_ONCE = 4;
/**
 * virsh sessions per host once it has more guests than that: one virsh runs one command at a time, and
 * libvirtd spends most of a guest's time validating its define, which a second connection runs beside it.
 */
const SESSIONS_PER_HOST = 2;

/**
 * The sessions beside the first that a host gets when its selection may hold more guests than are
 * worked on at once, opened while the guests are selected; none for libvirt's test driver (its state
 * lives in one connection). One that cannot be opened is left out: the first session is enough.
 */
function moreSessions(session: VirshSession, options: FleetOptions): Promise<VirshSession[]> {
  const mayBeMany = Boolean(options.all) || options.match !== undefined || (options.guests?.length ?? 0) > GUESTS_AT_ONCE;
  if (!mayBeMany || session.uri.startsWith('test:') || options.signal?.aborted) return Promise.resolve([]);
  return Promise.allSettled(Array.from({ length: SESSIONS_PER_HOST - 1 },
    () => connectHost(session.uri, { watch: false, ...pick(options, 'signal', 'open') }).session))
    .then((opened) => opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])));
}

/** The abort stopped this guest before anything of it was changed: it is left out, as if never begun. */
const stoppedBeforeChange = (error: unknown, options: FleetOptions) =>
  options.signal?.aborted === true && error instanceof VirtNestedError && error.code === 'ABORTED';

/** Whether a guest must be planned before anything else: its state and edit decide what happens. */
const plansFirst = (options: FleetOptions) =>
  Boolean(options.shutdown || options.diff || (options.mode === undefined && options.nested !== undefined && options.nested !== 'keep'));

/** The diff of the guest's definition when asked for (`diff`); its library loads only then. */
const withDiff = async (plan: CpuModePlan | undefined, options: FleetOptions) =>
  (options.diff && plan ? { diff: (await import('./definition-diff.js')).definitionDiff(plan.original, plan.edited) } : {});

/** The result with its keys in the documented order, whichever way it was put together. */
function inOrder(r: GuestResult): GuestResult {
  const { guest, uri, mode, changed, skipped, error, dryRun, before, after, backup, shutdown, restarted, diff, warnings } = r;
  return {
    guest, uri, mode, changed, ...(skipped === undefined ? {} : { skipped }), ...(error === undefined ? {} : { error }),
    dryRun, before, after, backup, shutdown, restarted, ...(diff === undefined ? {} : { diff }), warnings,
  };
}

/** The guest's result, or undefined when an abort stopped it before it was changed. */
async function oneGuest(session: VirshSession, guest: string, options: FleetOptions): Promise<GuestResult | undefined> {
  const result = await decideAndApply(session, guest, options);
  return result === undefined ? undefined : inOrder(result);
}

async function decideAndApply(session: VirshSession, guest: string, options: FleetOptions): Promise<GuestResult | undefined> {
  const base = {
    guest, uri: session.uri, mode: options.mode ?? 'host-model', changed: false, dryRun: Boolean(options.dryRun),
    before: null, after: null, backup: null, shutdown: false, restarted: false, warnings: [],
  };
  try {
    // a running guest is shut down only when it needs the edit and its host can run it: decided first
    const plan = plansFirst(options)
      ? await planCpuMode(session, guest, { ...(options.mode ? { mode: options.mode } : {}), ...(options.nested ? { nested: options.nested } : {}) })
      : undefined;
    const mode = plan?.mode ?? options.mode ?? 'host-model';
    const planned = { ...base, mode, ...await withDiff(plan, options) };
    if (plan && !plan.changed) {
      return { ...planned, before: plan.domain.cpu ?? null, after: plan.domain.cpu ?? null, warnings: plan.warnings };
    }
    const running = plan !== undefined && plan.state.state !== 'shut off';
    if (running && options.shutdown && options.dryRun) {
      return { ...planned, changed: true, before: plan.domain.cpu ?? null, after: plan.next.cpu ?? null, shutdown: true, warnings: [...plan.warnings, NESTED_SAVE_WARNING] };
    }
    return { ...planned, ...await applyWithShutdown(session, guest, mode, running && Boolean(options.shutdown), options) };
  } catch (error) {
    if (stoppedBeforeChange(error, options)) return undefined;
    // a guest that is running is left alone unless told to shut it down; any other refusal fails it
    if (error instanceof GuestNotShutOffError && error.reason === 'running' && (!options.shutdown || options.dryRun)) {
      return { ...base, skipped: error.state };
    }
    options.onError?.(error, guest, session.uri);
    return { ...base, error: { code: errorCodeOf(error), message: messageOf(error) } };
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
  // checked before any host is connected to
  await checkSelection(options);
  return workThenClose(options, connectHosts(options.uris, fleetConnections(options)));
}

/**
 * {@link applyCpuModeToHosts} over connections already being made (internal: the CLI starts them before
 * it loads this module). Closes every connection of the connector.
 *
 * @example
 * await applyCpuModeToHostsWith(options, connectHosts(options.uris, fleetConnections(options)));
 */
export async function applyCpuModeToHostsWith(options: FleetOptions, connector: HostConnector): Promise<FleetReport> {
  await checkSelection(options).catch(async (error: unknown) => {
    await connector.close();
    throw error;
  });
  return workThenClose(options, connector);
}

async function workThenClose(options: FleetOptions, connector: HostConnector): Promise<FleetReport> {
  try {
    return await workOnHosts(options, connector);
  } finally {
    await connector.close();
  }
}

async function workOnHosts(options: FleetOptions, connector: HostConnector): Promise<FleetReport> {
  const results: GuestResult[] = [];
  let aborted = false;
  // each host's watch of lifecycle events connects at the same time as its session
  const watches = new Map<VirshSession, LifecycleWatch>();
  const closing: Array<Promise<void> | undefined> = [];
  const failures: HostFailure[] = await eachHost(options.uris, {
    ...(options.jobs ? { jobs: options.jobs } : {}),
    open: async (uri) => {
      const { session, watch } = connector.take(uri);
      try {
        const opened = await session;
        if (watch) watches.set(opened, watch);
        return opened;
      } catch (error) {
        await watch?.close();
        throw error;
      }
    },
  }, async (session) => withHostLifecycleEvents(session, async (share) => {
    const extras = moreSessions(session, options).then((more) => { more.forEach(share); return more; });
    try {
      const guests = await selectGuests(session, options, { all: true, persistent: true });
      // a lane on the first session starts at once; the others start when their session is open
      const sessionOf = async (lane: number) => ((lane % SESSIONS_PER_HOST === 0 ? undefined : (await extras)[(lane % SESSIONS_PER_HOST) - 1]) ?? session);
      const stop = () => { if (options.signal?.aborted) aborted = true; return aborted; };
      await eachInOrder(guests, GUESTS_AT_ONCE, stop, async (guest, lane) => oneGuest(await sessionOf(lane), guest, options), (result) => {
        results.push(result);
        options.onResult?.(result);
      });
    } finally {
      await Promise.all((await extras).map((extra) => extra.close()));
    }
  }, !options.dryRun, watches.get(session)).finally(() => {
    // closed while eachHost closes the session
    closing.push(watches.get(session)?.close());
  }));
  await Promise.all(closing);
  const unreachable = failures.filter((failure) => failure.code !== 'ABORTED');
  if (!options.signal?.aborted) checkSelected(options, results.length, options.uris.length - failures.length);

  const count = (p: (r: GuestResult) => boolean) => results.filter(p).length;
  return {
    results,
    summary: {
      hosts: options.uris.length,
      unreachable,
      guests: results.length,
      changed: count((r) => r.changed && !r.error),
      unchanged: count((r) => !r.changed && !r.skipped && !r.error),
      skipped: count((r) => r.skipped !== undefined),
      failed: count((r) => r.error !== undefined),
      aborted: aborted || Boolean(options.signal?.aborted),
    },
  };
}
