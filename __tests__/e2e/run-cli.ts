import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project root and the built CLI (`npm test` builds first). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = `${ROOT}dist/cli.cjs`;

/** The result of one CLI run. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a user does: `node dist/cli.cjs ARGS`, with no shell. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** True when the output holds no JavaScript stack trace. */
export const hasNoStack = (run: CliRun) => !/\n\s+at .+:\d+:\d+\)?\n/.test(run.stdout + run.stderr);
