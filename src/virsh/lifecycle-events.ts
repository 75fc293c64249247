/**
 * libvirt's lifecycle events of one guest, as `virsh event --loop --event lifecycle --domain NAME` prints
 * them, on a connection of its own. libvirt has no compare-and-swap define: watching these events is how
 * the apply workflow learns that another client defined or started the guest between its last read and
 * its define. libvirt sends a client the events of its connection in the order they happened.
 *
 * The watching virsh runs its interactive shell: an `echo TOKEN` before the `event` command tells when
 * the connection is open; the registration is the next request on it. virsh prints nothing once it is
 * in place, so on Linux its main thread is watched entering the event loop (`event-loop-probe.ts`);
 * where that cannot be seen, a grace period after the token stands in for it.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { virshCommandLine } from './command-line.js';
import { inEventLoop } from './event-loop-probe.js';
import { startVirsh } from './start-virsh.js';

/**
 * One lifecycle event: libvirt's event and detail words, e.g. `Defined`/`Updated`, `Started`/`Booted`,
 * `Undefined`/`Removed`, `Stopped`/`Destroyed`.
 *
 * @example
 * const event: LifecycleEvent = { domain: 'web-1', event: 'Defined', detail: 'Updated' };
 */
export interface LifecycleEvent {
  /** The guest's name. */
  readonly domain: string;
  readonly event: string;
  readonly detail: string;
}

/**
 * A running watch on one guest's lifecycle events.
 *
 * @example
 * const watch = await watchLifecycleEvents('qemu:///system', 'web-1');
 * if (await watch.ready) { … await watch.waitFor((events) => events.some((e) => e.event === 'Defined'), 3000); }
 * await watch.close();
 */
export interface LifecycleWatch {
  /** True once the watching connection is open and the registration sent; false when it could not be made. */
  readonly ready: Promise<boolean>;
  /** Every event received so far, in the order libvirt sent them. */
  readonly events: readonly LifecycleEvent[];
  /** Resolves true as soon as `predicate(events)` holds, false after `timeoutMs` or when the watch ended. */
  waitFor(predicate: (events: readonly LifecycleEvent[]) => boolean, timeoutMs: number): Promise<boolean>;
  /** Stops watching (interrupts the event loop, then `quit`, then a kill after a grace period). */
  close(): Promise<void>;
}

/** How long the watching virsh may take to connect before the watch is given up. */
const READY_TIMEOUT_MS = 10_000;
/**
 * The token tells that the watching virsh is connected and has read the `event` line; it then still
 * looks the guest up and registers its callback with libvirtd (two round trips), and prints nothing
 * when that is done. A define in that window sends an event nobody receives: on a loaded host (two
 * cores, parallel test runs) our own define was missed that way about one time in thirty. Where the
 * probe cannot see the registration, the watch counts as ready this long after the token.
 */
const REGISTRATION_GRACE_MS = 300;
/** How often the probe looks at the watching virsh until it is in its event loop. */
const PROBE_INTERVAL_MS = 2;

/**
 * Resolves once the virsh `pid` is proven to be in its event loop, or when `graceMs` have passed (also
 * at once where the probe cannot tell, after the grace): never later than the grace alone would.
 */
async function untilRegistered(pid: number | undefined, graceMs: number, ended: () => boolean): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (pid !== undefined && !ended() && Date.now() < deadline) {
    const proven = await inEventLoop(pid);
    if (proven === undefined) break;
    if (proven) return;
    await sleep(PROBE_INTERVAL_MS);
  }
  const left = deadline - Date.now();
  if (left > 0 && !ended()) await sleep(left);
}
/**
 * The longest a watch lasts, in seconds (virsh reads no stdin during the loop, so this is what ends the
 * watch of an owner that was killed): far more than one guest's edit takes, or a host's many guests.
 */
const GUEST_WATCH_LIMIT_S = 300;
const HOST_WATCH_LIMIT_S = 3600;

const EVENT_LINE = /^event 'lifecycle' for domain '(.*)': (\S+) ?(.*)$/;

/**
 * Whether a second connection to `uri` sees its events: not with libvirt's test driver (`test:///…`),
 * which keeps its state per connection.
 *
 * @example
 * watchableUri('test:///default') // false
 */
export const watchableUri = (uri: string): boolean => !uri.startsWith('test:');

/**
 * Starts watching the lifecycle events of `guest` (of every guest when undefined) at `uri` (virsh's
 * default when undefined) on a new virsh connection. Never throws: a watch that cannot be made
 * resolves `ready` to false.
 *
 * @example
 * const watch = watchLifecycleEvents('qemu:///system', 'web-1');
 */
export function watchLifecycleEvents(uri: string | undefined, guest: string | undefined, options: { virshPath?: string } = {}): LifecycleWatch {
  const events: LifecycleEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => { for (const wake of [...waiters]) wake(); };
  const token = `virt-nested-events-${randomBytes(8).toString('hex')}`;
  let ended = false;
  let line: string;
  try {
    line = virshCommandLine(['event', ...(guest === undefined ? [] : ['--domain', guest]), '--event', 'lifecycle', '--loop',
      '--timeout', String(guest === undefined ? HOST_WATCH_LIMIT_S : GUEST_WATCH_LIMIT_S)]);
  } catch {
    return { ready: Promise.resolve(false), events, waitFor: async () => false, close: async () => undefined };
  }
  // started as a session's virsh is (its private history directory goes away with it)
  const virsh = startVirsh({ uri, virshPath: options.virshPath }).process;
  const exited = virsh.exited.then(() => {
    ended = true;
    notify();
  });
  virsh.stdin.on('error', () => undefined);
  // what it says on stderr is of no use to a watch: a watch that fails is one that never gets ready
  virsh.stderr.on('data', () => undefined);

  let markReady!: (ready: boolean) => void;
  const ready = new Promise<boolean>((resolve) => { markReady = resolve; });
  const readyTimer = setTimeout(() => markReady(false), READY_TIMEOUT_MS);
  void exited.then(() => { clearTimeout(readyTimer); markReady(false); });

  let text = '';
  let seenToken = false;
  virsh.stdout.on('data', (data) => {
    text += data.toString();
    if (!seenToken) {
      // the shell echoes the command line `echo TOKEN` too: the token not after `echo ` is the output
      let at = text.indexOf(token);
      while (at >= 0 && text.slice(Math.max(0, at - 5), at) === 'echo ') at = text.indexOf(token, at + token.length);
      if (at < 0) return;
      seenToken = true;
      text = text.slice(at + token.length);
      clearTimeout(readyTimer);
      void untilRegistered(virsh.pid, REGISTRATION_GRACE_MS, () => ended).then(() => markReady(!ended));
    }
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    let added = false;
    for (const l of lines) {
      const match = EVENT_LINE.exec(l);
      if (match) {
        events.push({ domain: match[1] as string, event: match[2] as string, detail: match[3] as string });
        added = true;
      }
    }
    if (added) notify();
  });
  virsh.stdin.write(`echo ${token}\n${line}\n`);

  const waitFor = (predicate: (events: readonly LifecycleEvent[]) => boolean, timeoutMs: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (predicate(events)) finish(true);
        else if (ended) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (result: boolean) => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(result);
      };
      waiters.add(check);
      check();
    });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearTimeout(readyTimer);
      markReady(false);
      if (!ended) {
        // SIGINT ends `event --loop` and returns to the prompt; `quit` then closes the connection cleanly
        virsh.kill('SIGINT');
        virsh.stdin.end('quit\n');
      }
      await exited;
    })();
    return closing;
  };
  return { ready, events, waitFor, close };
}

/**
 * One guest's events from a watch of every guest: those received from now on. Closing it leaves the
 * watch it reads from running (its owner closes that).
 *
 * @example
 * const web1 = guestView(hostWatch, 'web-1');
 */
export function guestView(watch: LifecycleWatch, guest: string): LifecycleWatch {
  const from = watch.events.length;
  const mine = () => watch.events.slice(from).filter((e) => e.domain === guest);
  return {
    ready: watch.ready,
    get events() { return mine(); },
    waitFor: (predicate, timeoutMs) => watch.waitFor(() => predicate(mine()), timeoutMs),
    close: async () => undefined,
  };
}
