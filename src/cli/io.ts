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
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stdoutBytes: (bytes) => process.stdout.write(bytes),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdin: () => process.stdin,
  };
}
