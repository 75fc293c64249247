/**
 * The typed commands a session carries, made from the free functions in `domain-commands.ts`,
 * `lifecycle-commands.ts`, `qemu-monitor.ts` and `domcapabilities.ts`: a new command is a function there and one line in {@link SESSION_COMMANDS};
 * its method on every session, with its parameters and documentation, follows from that line.
 */

import { define, domstate, dumpxml, listGuests } from './domain-commands.js';
import { destroy, shutdown, start, undefine } from './lifecycle-commands.js';
import { qemuMonitorCommand } from './qemu-monitor.js';
import { domcapabilities } from './domcapabilities.js';
import type { VirshRunner } from './runner.js';

/** Each command as a function of a runner and its own arguments. */
const SESSION_COMMANDS = {
  /** `virsh domstate`: `'running'`, `'shut off'`, `'paused'`, … */
  domstate,
  /** `virsh dumpxml`: the domain XML exactly as virsh prints it. */
  dumpxml,
  /** `virsh domcapabilities`; `undefined` when the driver has none (libvirt's test driver): "cannot check". */
  domcapabilities,
  /** `virsh define --file FILE [--validate]`; `--validate` unless `validate: false`. Throws `DEFINE_FAILED`. */
  define,
  /** `virsh list --name`: guest names, of running guests unless `all` or `state` says otherwise. */
  listGuests,
  /** `virsh start`. */
  start,
  /** `virsh shutdown` (asks the guest; returns before it is off). */
  shutdown,
  /** `virsh destroy` (pulls the plug). */
  destroy,
  /** `virsh undefine`. */
  undefine,
  /** `virsh qemu-monitor-command` (QMP): QEMU's JSON reply as virsh prints it. */
  qemuMonitorCommand,
};

/** A command with its runner already given. */
type BoundCommand<F> = F extends (runner: VirshRunner, ...args: infer A) => infer R ? (...args: A) => R : never;

/**
 * The typed commands of a {@link VirshSession}: each function of `SESSION_COMMANDS` without its
 * first (runner) argument.
 *
 * @example
 * const state = await session.domstate('web-1'); // the same as domstate(session, 'web-1')
 */
export type SessionCommands = { [K in keyof typeof SESSION_COMMANDS]: BoundCommand<(typeof SESSION_COMMANDS)[K]> };

/**
 * The session commands, each bound to `runner`.
 *
 * @example
 * const commands = bindSessionCommands({ uri, run }); await commands.dumpxml('web-1', { inactive: true });
 */
export function bindSessionCommands(runner: VirshRunner): SessionCommands {
  const bound: Record<string, unknown> = {};
  for (const [name, command] of Object.entries(SESSION_COMMANDS)) {
    bound[name] = (...args: unknown[]) => (command as (runner: VirshRunner, ...rest: unknown[]) => unknown)(runner, ...args);
  }
  return bound as SessionCommands;
}
