/**
 * Whether and how the define workflow watches a guest's lifecycle events: on a connection of its own
 * for one guest, or through the watch of every guest of a host that a fleet run opens once per host
 * (a virsh connection per guest would cost a fleet more than the edits do).
 */
import { guestView, watchableUri, watchLifecycleEvents, type LifecycleWatch } from '../virsh/lifecycle-events.js';
import type { VirshCommands } from './define-workflow.js';

/** The watch of every guest, per session, while a fleet works on that host. */
const hostWatches = new WeakMap<VirshCommands, LifecycleWatch>();

/**
 * Starts watching `guest` unless told not to: through the host's watch when one is open for this
 * session, else on a connection of its own.
 *
 * @example
 * const watch = startWatch(session, 'web-1'); // … await watch?.close();
 */
export function startWatch(session: VirshCommands, guest: string, enabled = true): LifecycleWatch | undefined {
  if (!enabled || !watchableUri(session.uri)) return undefined;
  const host = hostWatches.get(session);
  return host ? guestView(host, guest) : watchLifecycleEvents(session.uri, guest);
}

/**
 * Runs `work` with one watch of every guest's lifecycle events open for `session` (closed after), which
 * every define through that session then reads from; `share` lends it to another session of the same host.
 * `started` is a watch of every guest of the same host that the caller started already (at the same
 * time as the session, so that its connecting costs no time of its own); the caller closes that one.
 *
 * @example
 * await withHostLifecycleEvents(session, async () => { for (const guest of guests) await applyCpuMode(guest, mode, { session }); });
 */
export async function withHostLifecycleEvents<T>(
  session: VirshCommands,
  work: (share: (other: VirshCommands) => void) => Promise<T>,
  enabled = true,
  started?: LifecycleWatch,
): Promise<T> {
  if (!enabled || !watchableUri(session.uri) || hostWatches.has(session)) return work(() => undefined);
  const watch = started ?? watchLifecycleEvents(session.uri, undefined);
  const sharing = [session];
  hostWatches.set(session, watch);
  try {
    return await work((other) => {
      hostWatches.set(other, watch);
      sharing.push(other);
    });
  } finally {
    for (const shared of sharing) hostWatches.delete(shared);
    if (!started) await watch.close();
  }
}
