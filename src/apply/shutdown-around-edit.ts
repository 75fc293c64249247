/**
 * One guest's edit with the guest shut down around it: ACPI shutdown, waiting for "shut off", the
 * edit (`applyCpuMode`), and starting it again whatever the edit did. Used by the fleet run.
 */
import { errorCodeOf, GuestNotShutOffError, VirshError, VirtNestedError } from '../errors.js';
import type { NestedPolicy } from '../cpu/nested.js';
import type { CpuMode } from '../domain/types.js';
import type { VirshSession } from '../virsh/session.js';
import { abortedBeforeChange, applyCpuMode } from './apply-cpu-mode.js';

/** What {@link applyWithShutdown} takes of the fleet's options. */
export interface ShutdownEditOptions {
  readonly dryRun?: boolean;
  readonly nested?: NestedPolicy;
  readonly backupDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How long a guest may take to shut down (default 120 s); then it is left running and reported. */
  readonly shutdownTimeoutMs?: number;
  /** Checked before the guest is shut down or changed (see `ApplyCpuModeOptions.signal`). */
  readonly signal?: AbortSignal;
}

const POLL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ACPI shutdown; drivers without shutdown modes (libvirt's test driver) get their own graceful default. */
async function shutdownGracefully(session: VirshSession, guest: string): Promise<void> {
  try {
    await session.shutdown(guest, { mode: 'acpi' });
  } catch (error) {
    if (!(error instanceof VirshError && /unsupported flags/.test(error.stderr))) throw error;
    await session.shutdown(guest);
  }
}

async function waitForShutOff(session: VirshSession, guest: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let state = await session.domstate(guest); state !== 'shut off'; state = await session.domstate(guest)) {
    if (Date.now() > deadline) {
      throw new GuestNotShutOffError(guest, state, `guest "${guest}" did not shut down within ${Math.round(timeoutMs / 1000)} s; it was left running and not changed`, { reason: 'shutdown-timeout' });
    }
    await sleep(POLL_MS);
  }
}


/**
 * An error's message, or the thing thrown as text.
 *
 * @example
 * messageOf(new Error('boom')) // 'boom'
 */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * applyCpuMode, with the guest shut down first (ACPI, waited for) and started again after when
 * `shutdown` says so; a failed start again is reported on the result, never hides the edit.
 *
 * @example
 * const outcome = await applyWithShutdown(session, 'web-1', 'host-model', true, { shutdownTimeoutMs: 60_000 });
 */
export async function applyWithShutdown(session: VirshSession, guest: string, mode: CpuMode, shutdown: boolean, options: ShutdownEditOptions) {
  const applyOptions = {
    session,
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.nested ? { nested: options.nested } : {}),
    ...(options.backupDir ? { backupDir: options.backupDir } : {}),
    ...(options.env ? { env: options.env } : {}),
  };
  let wasRunning = false;
  let shutDown = false;
  if (shutdown) {
    const state = await session.domstate(guest);
    if (state !== 'shut off') {
      wasRunning = state === 'running';
      if (options.signal?.aborted) throw abortedBeforeChange(guest);
      shutDown = true;
      await shutdownGracefully(session, guest);
      // not cut short by an abort: the guest was asked to power off and is finished first
      await waitForShutOff(session, guest, options.shutdownTimeoutMs ?? 120_000);
    }
  }
  // once the guest is shut down, the edit is finished whatever the signal says, and it is started again
  const signal = shutDown || options.signal === undefined ? {} : { signal: options.signal };
  const outcome = await applyCpuMode(guest, mode, { ...applyOptions, ...signal }).then((applied) => ({ applied }), (failure: unknown) => ({ failure }));
  // start it again if we shut it down, whatever the edit did; a start failure must not hide the edit
  const startFailure = wasRunning && (await session.domstate(guest).catch(() => 'unknown')) !== 'running'
    ? await session.start(guest).then(() => undefined, (failure: unknown) => failure)
    : undefined;
  if ('failure' in outcome) {
    if (startFailure !== undefined) {
      throw new VirtNestedError(errorCodeOf(outcome.failure), `${messageOf(outcome.failure)}; and starting the guest again failed: ${messageOf(startFailure)}`,
        { cause: new AggregateError([outcome.failure, startFailure], 'the edit and the start again both failed') });
    }
    throw outcome.failure;
  }
  const { applied } = outcome;
  return {
    changed: applied.changed, before: applied.before, after: applied.after, backup: applied.backup, warnings: applied.warnings,
    shutdown: wasRunning, restarted: wasRunning && startFailure === undefined,
    ...(startFailure === undefined ? {} : {
      error: { code: errorCodeOf(startFailure), message: `guest "${guest}" was changed, but could not be started again: ${messageOf(startFailure)}` },
    }),
  };
}

