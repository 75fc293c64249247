/**
 * What the virsh commands need of a session, in a module of its own: the commands (`domain-commands.ts`,
 * `lifecycle-commands.ts`, `qemu-monitor.ts`, `domcapabilities.ts`) and the session that carries them
 * all import these types, and neither imports the other for them.
 */

/**
 * Options of {@link VirshRunner.run} (and of every command).
 *
 * @example
 * await session.run(['domstate', '--domain', 'web-1'], { timeoutMs: 5_000 });
 */
export interface VirshRunOptions {
  /** Milliseconds this command may take; on expiry the session is closed. Default: the session's. */
  timeoutMs?: number;
  /**
   * Write the command to virsh at once, without waiting for the commands ahead of it to finish: virsh
   * runs it right after them, and the round trip between them is saved. For commands whose running does
   * not depend on the outcome of those ahead (reads, mostly). Once written, an abort no longer stops it.
   */
  pipeline?: boolean;
}

/**
 * What one command printed: `stdout` byte for byte, `stderr` (warnings; empty for most commands).
 *
 * @example
 * const { stdout } = await session.run(['uri']); // → { stdout: 'qemu:///system\n', stderr: '' }
 */
export interface VirshOutput {
  stdout: string;
  stderr: string;
}

/**
 * What the typed commands need of a session: its URI (for messages) and a way to run one command.
 * Every {@link VirshSession} is one.
 *
 * @example
 * const runner: VirshRunner = { uri: session.uri, run: (args, options) => session.run(args, options) };
 * await domstate(runner, 'web-1');
 */
export interface VirshRunner {
  /** The canonical URI of the connection, as `virsh uri` prints it. */
  readonly uri: string;
  /** Runs one virsh command (argv, without `virsh`) and returns its output; throws `VirshError`. */
  run(args: readonly string[], options?: VirshRunOptions): Promise<VirshOutput>;
}
