/** Fixture host trees for tests: where they are, and throw-away copies to write into. */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandOptions, CommandResult, CommandRunner } from '../../src/host/index.js';

/** The path of `fixtures/hosts/NAME`. */
export function fixtureRoot(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/hosts/${name}`, import.meta.url));
}

const copies: string[] = [];

/** A copy of a fixture tree in a temp directory (removed by {@link removeCopies}). */
export async function copyFixture(name: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), `vn-host-${name}-`));
  copies.push(directory);
  const root = join(directory, 'root');
  await cp(fixtureRoot(name), root, { recursive: true });
  return root;
}

/** Removes every copy made so far. */
export async function removeCopies(): Promise<void> {
  for (const directory of copies.splice(0)) await rm(directory, { recursive: true, force: true });
}

/** One call a {@link recordingRunner} saw. */
export interface RecordedCall {
  file: string;
  args: readonly string[];
  options?: CommandOptions;
}

/** A runner that records every call and answers from `answer` (default: "command not found"). */
export function recordingRunner(answer?: (file: string, args: readonly string[]) => CommandResult | Promise<CommandResult>): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const run = async (file: string, args: readonly string[], options?: CommandOptions) => {
    calls.push(options === undefined ? { file, args: [...args] } : { file, args: [...args], options });
    return answer ? answer(file, args) : { stdout: '', stderr: `${file}: command not found`, exitCode: 127 };
  };
  return Object.assign(run, { calls });
}
