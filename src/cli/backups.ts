/**
 * `virt-nested backups [GUEST] [-c URI] [--json]`: the backups virt-nested wrote, per guest and host.
 * Reads the backup directory only; no libvirt needed. Exit 0 (also when there are none), 2 usage.
 */
import { defaultBackupDir } from '../apply/backup-dir.js';
import { listBackups, type BackupEntry } from '../apply/list-backups.js';
import type { CliIo } from './io.js';
import { oneUri } from './restore.js';

function describe(entries: readonly BackupEntry[], dir: string): string {
  if (entries.length === 0) return `no backups in ${dir}\n`;
  let text = '';
  let group = '';
  for (const entry of entries) {
    const heading = `guest ${JSON.stringify(entry.guest)} at ${entry.uri}:\n`;
    if (heading !== group) text += (group = heading);
    const defined = entry.defined === null ? 'not defined over' : 'then defined by virt-nested';
    text += `  ${entry.createdAt}  ${entry.reason}, ${defined}  ${entry.file}\n`;
  }
  return text;
}

/**
 * Runs `backups` and returns its exit code.
 *
 * @example
 * process.exitCode = await run(['web-1'], { json: true }, processIo());
 */
export async function run(args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uri = oneUri('backups', options);
  const backupDir = defaultBackupDir(io.env);
  const backups = await listBackups({ backupDir, ...(args[0] !== undefined ? { guest: args[0] } : {}), ...(uri !== undefined ? { uri } : {}) });
  if (options['json']) io.stdout(`${JSON.stringify({ schemaVersion: 1, backupDir, backups }, null, 2)}\n`);
  else io.stdout(describe(backups, backupDir));
  return 0;
}
