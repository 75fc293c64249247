/**
 * The connections a fleet run makes to each host: its virsh session and, when it will define anything,
 * the watch of every guest's lifecycle events, started at the same moment so that neither waits for the
 * other. A caller may start the first hosts' connections before it loads the rest of the workflow
 * (the CLI does: virsh connects while Node compiles the code that will use it).
 */
import { VirtNestedError } from '../errors.js';
import { watchableUri, watchLifecycleEvents, type LifecycleWatch } from '../virsh/lifecycle-events.js';
import { openVirsh, type VirshSession } from '../virsh/session.js';
import type { StartedVirsh } from '../virsh/start-virsh.js';
import { DEFAULT_JOBS } from '../virsh/each-host.js';

/**
 * The named options that are set: with exact optional properties, an option left out stays out.
 *
 * @example
 * pick({ jobs: 2, signal: undefined }, 'jobs', 'signal') // { jobs: 2 }
 */
export function pick<T extends object, K extends keyof T>(options: T, ...keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key];
  return picked;
}

/** One host's connections: the session being opened, and its watch (undefined when none is kept). */
export interface HostConnection {
  readonly session: Promise<VirshSession>;
  readonly watch: LifecycleWatch | undefined;
}

/** Options of {@link connectHosts}. */
export interface ConnectHostsOptions {
  /** Watch lifecycle events (false for a dry run: it defines nothing). */
  readonly watch: boolean;
  /** Hosts connected to at the start (the fleet's `jobs`, default 4). */
  readonly jobs?: number;
  /** Aborts connecting (a session already open is kept: the fleet finishes the guest it is editing). */
  readonly signal?: AbortSignal;
  /** Opens a session (default: `openVirsh`). */
  readonly open?: (uri: string | undefined) => Promise<VirshSession>;
  /**
   * A virsh already started for `uri`, if there is one, for the default opening to adopt (the CLI's
   * executable starts the first one before the CLI loads).
   */
  readonly adopt?: (uri: string | undefined) => StartedVirsh | undefined;
}

/** Hands out each host's connections, the first ones started already; {@link close} ends the ones never taken. */
export interface HostConnector {
  /** The connections to `uri`: those started for it at the start (once), else new ones. */
  take(uri: string | undefined): HostConnection;
  /** Closes the sessions and watches that were started but never taken. */
  close(): Promise<void>;
}

/**
 * A session whose connecting can be aborted, but not the session itself: an abort must let the guest
 * being edited finish (its define, verification, and start again), so it is checked between guests.
 */
async function openUntilConnected(uri: string | undefined, signal: AbortSignal | undefined, started: StartedVirsh | undefined): Promise<VirshSession> {
  const how = { ...(uri === undefined ? {} : { uri }), ...(started === undefined ? {} : { started }) };
  if (signal === undefined) return openVirsh(how);
  const connecting = new AbortController();
  const forward = () => connecting.abort();
  signal.addEventListener('abort', forward, { once: true });
  try {
    return await openVirsh({ ...how, signal: connecting.signal });
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

/**
 * Opens a session to `uri` (refused at once when `signal` has fired) and, if asked, the watch beside it.
 *
 * @example
 * const { session, watch } = connectHost('qemu:///system', { watch: true });
 */
export function connectHost(uri: string | undefined, options: ConnectHostsOptions): HostConnection {
  if (options.signal?.aborted) {
    const refused = Promise.reject(new VirtNestedError('ABORTED', `${uri ?? 'the default URI'} was not connected to because the operation was aborted`));
    refused.catch(() => undefined);
    return { session: refused, watch: undefined };
  }
  // the session first: every command waits for it, and the watch is needed only at the first define
  const session = options.open ? options.open(uri) : openUntilConnected(uri, options.signal, options.adopt?.(uri));
  const watch = options.watch && (uri === undefined || watchableUri(uri)) ? watchLifecycleEvents(uri, undefined) : undefined;
  // taken later (or closed by the connector): a failure is reported by whoever takes it
  session.catch(() => undefined);
  return { session, watch };
}

/**
 * Starts connecting to the first `jobs` of `uris` now and hands the connections out as the fleet asks.
 *
 * @example
 * const connector = connectHosts(['qemu+ssh://hv1/system'], { watch: true });
 * const { session } = connector.take('qemu+ssh://hv1/system');
 */
export function connectHosts(uris: ReadonlyArray<string | undefined>, options: ConnectHostsOptions): HostConnector {
  // closing ends the connecting of hosts never taken (an unreachable one would otherwise be waited for)
  const closing = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal;
  const early = { ...options, signal };
  const started = uris.slice(0, Math.max(1, options.jobs ?? DEFAULT_JOBS)).map((uri) => ({ uri, connection: connectHost(uri, early) }));
  return {
    take(uri) {
      const at = started.findIndex((s) => s.uri === uri);
      if (at < 0) return connectHost(uri, options);
      return (started.splice(at, 1)[0] as { connection: HostConnection }).connection;
    },
    async close() {
      const left = started.splice(0);
      closing.abort();
      await Promise.all(left.map(async ({ connection }) => {
        await connection.watch?.close();
        await connection.session.then((session) => session.close(), () => undefined);
      }));
    },
  };
}

/**
 * How a fleet run connects to its hosts: a watch of lifecycle events unless it is a dry run.
 *
 * @example
 * const connector = connectHosts(uris, fleetConnections({ dryRun: false, jobs: 4 }));
 */
export function fleetConnections(options: { readonly dryRun?: boolean; readonly jobs?: number; readonly signal?: AbortSignal; readonly open?: ConnectHostsOptions['open']; readonly adopt?: ConnectHostsOptions['adopt'] }): ConnectHostsOptions {
  return { watch: !options.dryRun, ...pick(options, 'jobs', 'signal', 'open', 'adopt') };
}
