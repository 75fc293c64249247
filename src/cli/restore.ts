/**
 * `virt-nested restore GUEST [--backup FILE] [-c URI] [--force] [--json]`: define a backup again.
 * Exit 0 done (or nothing to do), 1 refused (running, changed since virt-nested wrote it, a race),
 * 2 usage, missing guest or backup, libvirt unreachable.
 */
import { VirtNestedError } from '../errors.js';
import { exitCodeFor } from './exit-codes.js';
import { restoreDefinition, type RestoreResult } from '../apply/restore.js';
import { withVirsh } from '../virsh/session.js';
import type { CliIo } from './io.js';

/**
 * The one URI a single-guest command connects to: `-c`, else virsh's own default.
 *
 * @example
 * oneUri('restore', { connect: ['qemu:///system'] }) // 'qemu:///system'
 */
export function oneUri(command: string, options: Record<string, unknown>): string | undefined {
  const connect = Array.isArray(options['connect']) ? (options['connect'] as string[]) : [];
  if (connect.length > 1) throw new VirtNestedError('USAGE', `${command} takes one -c URI: it works on one guest of one host`);
  return connect[0];
}

function describe(result: RestoreResult): string {
  const who = `guest "${result.guest}"`;
  if (!result.changed) return `${who}: already has the definition of ${result.restoredFrom}; nothing to do\n`;
  return `${who}: definition restored from ${result.restoredFrom}${result.forced ? ' (forced)' : ''}\n  backup of the definition it replaced: ${result.backup}\n`;
}

/**
 * Runs `restore` and returns its exit code.
 *
 * @example
 * process.exitCode = await run(['web-1'], { connect: ['qemu:///system'] }, processIo());
 */
export async function run(args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const guest = args[0] as string;
  const json = Boolean(options['json']);
  let uri: string | undefined;
  try {
    uri = oneUri('restore', options);
    const result = await withVirsh(uri === undefined ? {} : { uri }, (session) => {
      uri = session.uri;
      return restoreDefinition(guest, {
        session, env: io.env,
        ...(options['backup'] !== undefined ? { backup: options['backup'] as string } : {}),
        ...(options['force'] ? { force: true } : {}),
      });
    });
    if (json) io.stdout(`${JSON.stringify({ schemaVersion: 1, ...result }, null, 2)}\n`);
    else io.stdout(describe(result));
    for (const warning of result.warnings) io.stderr(`warning: ${warning.message}\n`);
    return 0;
  } catch (error) {
    if (!json || !(error instanceof VirtNestedError)) throw error;
    io.stdout(`${JSON.stringify({ schemaVersion: 1, guest, uri: uri ?? null, changed: false, error: { code: error.code, message: error.message } }, null, 2)}\n`);
    io.stderr(`virt-nested: ${error.message}\n`);
    return exitCodeFor(error);
  }
}
