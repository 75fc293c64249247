/**
 * Work on many libvirt hosts at once: one virsh session per host, at most `jobs` hosts at a time, a
 * host that cannot be reached reported (by URI) without stopping the others.
 */
import { errorCodeOf, type ErrorCode } from '../errors.js';
import { openVirsh, type VirshSession } from './session.js';

/** A host that could not be reached, or whose work failed as a whole. */
export interface HostFailure {
  readonly uri: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Options of {@link eachHost}. */
export interface EachHostOptions {
  /** Hosts worked on at once (default 4). */
  readonly jobs?: number;
  readonly signal?: AbortSignal;
  /** Opens a session (default: `openVirsh`). */
  readonly open?: (uri: string | undefined) => Promise<VirshSession>;
}

/** Hosts worked on at once when the caller does not say. */
export const DEFAULT_JOBS = 4;

const failure = (uri: string, error: unknown): HostFailure => ({
  uri,
  code: errorCodeOf(error),
  message: error instanceof Error ? error.message : String(error),
});

/**
 * Runs `work` with a session on each of `uris` (`undefined`: virsh's default URI), closing every
 * session; returns the hosts that failed.
 *
 * @example
 * const failed = await eachHost(['qemu:///system', 'qemu+ssh://hv2/system'], {}, async (session) => {
 *   console.log(session.uri, await session.listGuests({ all: true }));
 * });
 */
export async function eachHost(
  uris: ReadonlyArray<string | undefined>,
  options: EachHostOptions,
  work: (session: VirshSession) => Promise<void>,
): Promise<HostFailure[]> {
  const open = options.open ?? ((uri: string | undefined) => openVirsh({ ...(uri === undefined ? {} : { uri }), ...(options.signal ? { signal: options.signal } : {}) }));
  const failures: HostFailure[] = [];
  const queue = [...uris];
  const worker = async (): Promise<void> => {
    while (queue.length > 0) {
      const uri = queue.shift();
      let session: VirshSession;
      try {
        session = await open(uri);
      } catch (error) {
        failures.push(failure(uri ?? '(default)', error));
        continue;
      }
      try {
        await work(session);
      } catch (error) {
        failures.push(failure(session.uri, error));
      } finally {
        await session.close();
      }
    }
  };
  const jobs = Math.max(1, options.jobs ?? DEFAULT_JOBS);
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  return failures;
}
