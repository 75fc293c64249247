/**
 * The timers a virsh transport arms, passed in so that tests can fire them by hand.
 */

/**
 * A pair like the global `setTimeout`/`clearTimeout`: a command's timeout, the connection's, the grace
 * before a kill.
 *
 * @example
 * const timers: TransportTimers = { setTimeout: (fire, ms) => setTimeout(fire, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
 */
export interface TransportTimers {
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Node's own timers.
 *
 * @example
 * openTransport({ process, names, timeoutMs, timers: REAL_TIMERS });
 */
export const REAL_TIMERS: TransportTimers = {
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's limit: a longer timeout (`Infinity` included) arms no timer at all. */
const LONGEST_TIMER_MS = 2_147_483_647;

/**
 * A timer for `ms`, or none (undefined) for `Infinity` and anything else setTimeout cannot wait for.
 *
 * @example
 * const handle = armTimer(REAL_TIMERS, 30_000, onTimeout); … REAL_TIMERS.clearTimeout(handle);
 */
export function armTimer(timers: TransportTimers, ms: number, fire: () => void): unknown {
  return ms <= LONGEST_TIMER_MS ? timers.setTimeout(fire, ms) : undefined;
}
