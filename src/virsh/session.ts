/**
 * One long-lived `virsh` per connection: commands are written to its interactive shell one line at a
 * time and their output is cut apart with markers (see `framing.ts`), so a whole workflow (domstate,
 * dumpxml, domcapabilities, define, dumpxml again) costs one process start instead of one per step.
 * This module only wires the real virsh into a transport (`transport.ts`) and the typed commands
 * (`session-commands.ts`) onto it.
 */

import { VirtNestedError } from '../errors.js';
import { assertVirshArgument } from './command-line.js';
import type { VirshOutput, VirshRunOptions, VirshRunner } from './runner.js';
import { bindSessionCommands, type SessionCommands } from './session-commands.js';
import { assertTimeout } from './session-errors.js';
import { sessionMemo, type Remember } from './session-memo.js';
import { openTransport } from './transport.js';
import { shownUri, startVirsh, type StartedVirsh } from './start-virsh.js';
import { virshEnvironment } from './virsh-process.js';

export type { VirshOutput, VirshRunOptions } from './runner.js';

/**
 * How long a command (and the initial connection) may take unless told otherwise.
 *
 * @example
 * await openVirsh({ uri, timeoutMs: 2 * DEFAULT_VIRSH_TIMEOUT_MS });
 */
export const DEFAULT_VIRSH_TIMEOUT_MS = 30_000;

/**
 * Options of {@link openVirsh}.
 *
 * @example
 * const options: OpenVirshOptions = { uri: 'qemu+ssh://root@host1/system', timeoutMs: 10_000, signal: controller.signal };
 */
export interface OpenVirshOptions {
  /** libvirt URI (`-c URI`); without it virsh picks one as usual (`LIBVIRT_DEFAULT_URI`, libvirt.conf). */
  uri?: string;
  /** Variables laid over `process.env` for virsh (an `undefined` value removes one). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds the connection and each command may take; default {@link DEFAULT_VIRSH_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The virsh executable; default `virsh` from `PATH`. */
  virshPath?: string;
  /**
   * Aborts the session: commands not yet written to virsh are rejected with code `ABORTED`; the running
   * one (and any pipelined behind it) finishes, then virsh quits.
   */
  signal?: AbortSignal;
  /**
   * A virsh already started for this session (by {@link startVirsh}), adopted instead of starting one;
   * `uri`, `env` and `virshPath` are then its own. The CLI's executable starts one this way before the
   * CLI has loaded.
   * @internal
   */
  started?: StartedVirsh;
}

/**
 * A connection to libvirt through one `virsh` process. Commands run one after another, in the order
 * they were asked for; each is written to virsh when the one before it has finished, or at once with
 * `pipeline: true`. Guest names are always passed as `--domain NAME`; note that virsh looks NAME up as an ID,
 * then a UUID, then a name. The typed commands (`domstate`, `dumpxml`, …) are {@link SessionCommands}.
 *
 * @example
 * const virsh = await openVirsh({ uri: 'qemu:///system' });
 * try {
 *   if ((await virsh.domstate('web-1')) === 'shut off') console.log(await virsh.dumpxml('web-1', { inactive: true, securityInfo: true }));
 * } finally {
 *   await virsh.close();
 * }
 */
export interface VirshSession extends VirshRunner, SessionCommands {
  /** The canonical URI of the connection, as `virsh uri` prints it. */
  readonly uri: string;
  /** The virsh process id. */
  readonly pid: number | undefined;
  /**
   * Runs one virsh command (argv, without `virsh`, `-c` or `-q`; virsh runs quiet, so `list` prints no
   * header and `define` no confirmation) and returns its output. Throws {@link VirshError}:
   * `GUEST_NOT_FOUND`, `GUEST_NOT_RUNNING`, `VIRSH_FAILED` (libvirt's message), `VIRSH_TIMEOUT` (the
   * session is then closed), `LIBVIRT_UNREACHABLE` (the connection was lost and virsh could not
   * reconnect), `ABORTED` (after the session's signal fired); and `USAGE` for an argument with a
   * newline or other control character, for a closed session, and for commands that would break the
   * session (`quit`, `connect`, `cd`, `console`, `edit`, `*-edit`).
   */
  run(args: readonly string[], options?: VirshRunOptions): Promise<VirshOutput>;
  /** Lets queued commands finish, sends `quit`, and kills virsh if it has not exited after a grace period. */
  close(): Promise<void>;
  /**
   * Answers that stay true while the connection is open, kept with the session (see `session-memo.ts`).
   * @internal
   */
  readonly remember: Remember;
}

/**
 * Starts virsh for `uri`, checks the connection at once, and returns the session. Throws
 * {@link VirshError} `LIBVIRT_MISSING` when virsh cannot be run, `LIBVIRT_UNREACHABLE` when libvirt
 * refuses or cannot be reached (one sentence with the URI and libvirt's reason).
 *
 * @example
 * const session = await openVirsh({ uri: 'qemu:///system' });
 * try { console.log(await session.domstate('web-1')); } finally { await session.close(); }
 */
export async function openVirsh(options: OpenVirshOptions = {}): Promise<VirshSession> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_VIRSH_TIMEOUT_MS;
  assertTimeout(timeoutMs);
  const requestedUri = options.uri === '' ? undefined : options.uri;
  if (requestedUri !== undefined) assertVirshArgument(requestedUri);
  // an aborted call starts nothing, not even the history directories' parent
  if (options.signal?.aborted && options.started === undefined) {
    throw new VirtNestedError('ABORTED', `virsh was not started for ${shownUri(requestedUri, virshEnvironment(options.env))} because the operation was aborted`);
  }
  const started = options.started ?? startVirsh({ uri: requestedUri, env: options.env, virshPath: options.virshPath });
  const transport = await openTransport({
    process: started.process,
    names: { virshPath: started.virshPath, argv: started.argv, shownUri: started.shownUri },
    timeoutMs,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });

  const session = {
    get uri() {
      return transport.uri;
    },
    pid: transport.pid,
    run: (args, runOptions) => transport.run(args, runOptions),
    close: () => transport.close(),
    remember: sessionMemo(),
  } as VirshSession;
  return Object.assign(session, bindSessionCommands(session));
}

/**
 * Opens a session, runs `fn` with it, and always closes it, also when `fn` throws.
 *
 * @example
 * const state = await withVirsh({ uri: 'qemu:///system' }, (virsh) => virsh.domstate('web-1'));
 */
export async function withVirsh<T>(options: OpenVirshOptions, fn: (session: VirshSession) => Promise<T> | T): Promise<T> {
  const session = await openVirsh(options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
