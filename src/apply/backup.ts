/**
 * Backups of guest definitions, written before every define: mode 0600 (a definition read with
 * --security-info holds passwords), in a 0700 directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where backups go: `$VIRT_NESTED_BACKUP_DIR`, else `/var/lib/virt-nested/backups` for root, else
 * `$XDG_STATE_HOME/virt-nested/backups` (default `~/.local/state/virt-nested/backups`).
 *
 * @example
 * defaultBackupDir(process.env) // '/var/lib/virt-nested/backups'
 */
export function defaultBackupDir(env: NodeJS.ProcessEnv, uid: number | undefined = process.getuid?.()): string {
  if (env['VIRT_NESTED_BACKUP_DIR']) return env['VIRT_NESTED_BACKUP_DIR'];
  if (uid === 0) return '/var/lib/virt-nested/backups';
  const state = env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
  return join(state, 'virt-nested', 'backups');
}

/** A file name for any guest name: spaces, quotes, slashes and non-ASCII are percent-encoded. */
function safeFileName(guest: string): string {
  return encodeURIComponent(guest).replace(/^\./, '%2E').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The host a libvirt URI names (`hv1` in `qemu+ssh://root@hv1/system`), or `local`. */
function hostOf(uri: string): string {
  try {
    return new URL(uri).hostname || 'local';
  } catch {
    return 'local';
  }
}

/**
 * Writes `xml` as the backup of `guest`'s definition at `uri` and returns its path
 * (`DIR/GUEST@HOST-YYYYMMDDTHHMMSSZ.xml`, mode 0600; HOST is the URI's host, `local` for a local URI,
 * so that the same guest name on two hosts of a fleet gives two telling names).
 *
 * @example
 * await writeBackup('/var/lib/virt-nested/backups', 'web-1', 'qemu+ssh://root@hv1/system', xml, new Date())
 * // '/var/lib/virt-nested/backups/web-1@hv1-20261125T061500Z.xml'
 */
export async function writeBackup(dir: string, guest: string, uri: string, xml: string, now: Date): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${safeFileName(guest)}@${safeFileName(hostOf(uri))}-${stamp}`;
  let path = join(dir, `${base}.xml`);
  for (let i = 1; ; i++) {
    try {
      await writeFile(path, xml, { mode: 0o600, flag: 'wx' });
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      path = join(dir, `${base}-${i}.xml`);
    }
  }
}
