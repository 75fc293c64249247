import type { StartedVirsh } from '../virsh/start-virsh.js';
import type { EarlyVirsh } from './early-virsh.js';

/** What a command module gets from the CLI's edge: streams and environment, so tests can pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  /** Bytes to stdout as they are (a document in its own encoding); without it, text goes to `stdout`. */
  readonly stdoutBytes?: (bytes: Uint8Array) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal. */
  readonly isTTY: boolean;
  /** Whether stderr is a terminal: progress lines are drawn there, and only then. */
  readonly stderrIsTTY?: boolean;
  /** Standard input, for the path `-` (`lint -`, `set-cpu --file -`); read only when asked for. */
  readonly stdin?: () => AsyncIterable<Uint8Array | string>;
  /**
   * The virsh the executable started for this run before the CLI loaded, when it was started for `uri`;
   * the one command that connects there takes it (once).
   */
  readonly earlyVirsh?: (uri: string | undefined) => StartedVirsh | undefined;
}

/** The process's own streams and environment, and the virsh the executable started early, if any. */
export function processIo(early?: EarlyVirsh): CliIo {
  return {
    ...(early ? { earlyVirsh: (uri: string | undefined) => early.take(uri) } : {}),
    stdout: (text) => process.stdout.write(text),
    stdoutBytes: (bytes) => process.stdout.write(bytes),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdin: () => process.stdin,
  };
}
