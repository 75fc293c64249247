/**
 * Reaching this machine's libvirtd through libvirt's ssh transport, as a fleet reaches a remote host:
 * `.ci/run` starts sshd on 127.0.0.1:2222 (root by key only); a test brings its own key pair, authorizes
 * it for as long as it runs, and puts root's `~/.ssh` back as it found it.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** Where `.ci/run` makes sshd listen. */
export const SSH_PORT = 2222;

/** A key authorized for root until `revoke()`. */
export interface SshAccess {
  /** `qemu+ssh://root@localhost:2222/system?keyfile=…&no_verify=1`: the local libvirtd, through ssh. */
  readonly uri: string;
  /** Removes the key's line from authorized_keys and what ssh added to known_hosts; safe to call twice. */
  readonly revoke: () => Promise<void>;
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Writes back `file` without the lines `drop` selects; deletes it when it did not exist before and
 * nothing else is left in it.
 */
async function dropLines(file: string, existedBefore: boolean, drop: (line: string) => boolean): Promise<void> {
  const text = await readOrNull(file);
  if (text === null) return;
  const kept = text.split('\n').filter((line) => !drop(line)).join('\n');
  if (kept === text) return;
  if (!existedBefore && kept.trim() === '') await rm(file, { force: true });
  else await writeFile(file, kept);
}

/** Puts `file` back byte for byte as it was (`null`: it did not exist). */
async function restoreFile(file: string, before: string | null): Promise<void> {
  if (before === null) await rm(file, { force: true });
  else if ((await readOrNull(file)) !== before) await writeFile(file, before);
}

/**
 * Creates a key pair in `dir`, authorizes it for root (a line with a unique comment) and returns the
 * qemu+ssh URI that uses it. `no_verify=1` lets ssh accept the loopback sshd's host key; ssh then
 * records it in root's known_hosts (ssh finds that file through the password database, not `$HOME`)
 * and, learning the server's other host keys (UpdateHostKeys), rewrites it keeping a `known_hosts.old`:
 * `revoke()` puts both back byte for byte.
 *
 * @example
 * const ssh = await authorizeSshKey(dir);
 * try { runCli(['set-cpu', '-c', ssh.uri, …]); } finally { await ssh.revoke(); }
 */
export async function authorizeSshKey(dir: string): Promise<SshAccess> {
  const sshDir = join(userInfo().homedir, '.ssh');
  const authorizedKeys = join(sshDir, 'authorized_keys');
  const knownHosts = join(sshDir, 'known_hosts');
  const comment = `virt-nested-test-${randomBytes(6).toString('hex')}`;
  const key = join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]);
  const publicKey = (await readFile(`${key}.pub`, 'utf8')).trim();

  let createdSshDir = false;
  try {
    await mkdir(sshDir, { mode: 0o700 });
    createdSshDir = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const authorizedBefore = await readOrNull(authorizedKeys);
  const knownBefore = await readOrNull(knownHosts);
  const knownOldBefore = await readOrNull(`${knownHosts}.old`);
  const separator = authorizedBefore === null || authorizedBefore === '' || authorizedBefore.endsWith('\n') ? '' : '\n';
  await writeFile(authorizedKeys, `${separator}${publicKey}\n`, { flag: 'a', mode: 0o600 });

  let revoked = false;
  const revoke = async () => {
    if (revoked) return;
    revoked = true;
    await dropLines(authorizedKeys, authorizedBefore !== null, (line) => line.endsWith(` ${comment}`));
    await restoreFile(knownHosts, knownBefore);
    await restoreFile(`${knownHosts}.old`, knownOldBefore);
    if (createdSshDir) await rmdir(sshDir).catch(() => undefined);
  };
  return { uri: `qemu+ssh://root@localhost:${SSH_PORT}/system?keyfile=${key}&no_verify=1`, revoke };
}
