/**
 * Whether and how the define workflow watches a guest's lifecycle events.
 */
import { watchLifecycleEvents, type LifecycleWatch } from '../virsh/lifecycle-events.js';

/**
 * Starts watching `guest` at `uri` unless told not to. libvirt's test driver (`test:///…`) keeps its
 * state per connection, so a second connection would see none of the session's events: no watch there.
 *
 * @example
 * const watch = startWatch('qemu:///system', 'web-1'); // … await watch?.close();
 */
export function startWatch(uri: string, guest: string, enabled = true): LifecycleWatch | undefined {
  if (!enabled || uri.startsWith('test:')) return undefined;
  return watchLifecycleEvents(uri, guest);
}
