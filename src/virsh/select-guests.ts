import { globToRegExp } from './glob.js';
import type { ListGuestsOptions } from './domain-commands.js';
import type { VirshSession } from './session.js';

/** Which guests a command works on: names, and/or every listed guest (`all`), narrowed by `match`. */
export interface GuestSelection {
  readonly guests?: readonly string[];
  /** Every guest `virsh list` gives (with the caller's list options). */
  readonly all?: boolean;
  /** Listed guests whose name matches this shell glob; with `all` too, only those. */
  readonly match?: string;
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
    const pattern = selection.match === undefined ? undefined : globToRegExp(selection.match);
    for (const name of await session.listGuests(list)) {
      if ((pattern === undefined || pattern.test(name)) && !names.includes(name)) names.push(name);
    }
  }
  return names;
}
