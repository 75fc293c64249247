import { VirtNestedError } from '../errors.js';
import { shellArgument } from './hint.js';
import type { ListGuestsOptions } from './domain-commands.js';
import type { VirshSession } from './session.js';

/** The glob matcher (picomatch), loaded only for a `match`: naming guests never loads it. */
const globModule = () => import('./glob.js');

/** Which guests a command works on: names, and/or every listed guest (`all`), narrowed by `match`. */
export interface GuestSelection {
  readonly guests?: readonly string[];
  /** Every guest `virsh list` gives (with the caller's list options). */
  readonly all?: boolean;
  /** Listed guests whose name matches this shell glob; with `all` too, only those. */
  readonly match?: string;
}

/**
 * Refuses a selection that cannot mean anything, before any host is asked: a `match` that is not a
 * valid glob (a `USAGE` error naming the pattern, never blamed on a host), or no guest named and
 * neither `all` nor `match`.
 *
 * @example
 * await checkSelection({ match: '[z-a]' }) // throws: --match '[z-a]' is not a valid glob: …
 */
export async function checkSelection(selection: GuestSelection): Promise<void> {
  if (selection.match !== undefined) (await globModule()).globMatcher(selection.match);
  if (!selection.guests?.length && !selection.all && selection.match === undefined) {
    throw new VirtNestedError('USAGE', 'name the guests, or use --all or --match GLOB');
  }
}

/**
 * Refuses a `match` that selected no guest on any host it reached: selecting nothing is a usage error
 * (as for eslint), not a success.
 *
 * @example
 * checkSelected({ match: 'web-*' }, 0, 1) // throws: --match 'web-*' selects no guest on the host it reached
 */
export function checkSelected(selection: GuestSelection, selected: number, reached: number): void {
  if (selected > 0 || reached === 0 || selection.match === undefined || selection.guests?.length) return;
  throw new VirtNestedError('USAGE', `--match ${shellArgument(selection.match)} selects no guest on ${reached === 1 ? 'the host' : `any of the ${reached} hosts`} it reached`);
}

/**
 * The guests a selection means on one host: the names given, then the listed guests that `all` or
 * `match` take, each once, in virsh's order.
 *
 * @example
 * await selectGuests(session, { match: 'web-*' }, { all: true, persistent: true }) // ['web-1', 'web-2']
 */
export async function selectGuests(
  session: Pick<VirshSession, 'listGuests'>,
  selection: GuestSelection,
  list: ListGuestsOptions,
): Promise<string[]> {
  const names = [...(selection.guests ?? [])];
  if (selection.all || selection.match !== undefined) {
    // `--all --match GLOB` means the guests that match, never every guest on the host
    const matches = selection.match === undefined ? undefined : (await globModule()).globMatcher(selection.match);
    for (const name of await session.listGuests(list)) {
      if ((matches === undefined || matches(name)) && !names.includes(name)) names.push(name);
    }
  }
  return names;
}
