/**
 * Throw-away TCG guests on the real libvirtd: unique names, removed with plain one-shot virsh calls
 * (destroy + undefine) even when a test failed halfway.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const SYSTEM_URI = 'qemu:///system';

/** `prefix-<8 hex digits>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll("'", '&apos;').replaceAll('"', '&quot;');
}

/** A 48 MiB TCG guest without disks: defines and starts in well under a second here. */
export function tcgGuestXml(name: string, devices = ''): string {
  return [
    "<domain type='qemu'>",
    `  <name>${escapeXml(name)}</name>`,
    "  <memory unit='MiB'>48</memory>",
    '  <os>',
    "    <type arch='x86_64' machine='pc'>hvm</type>",
    '  </os>',
    ...(devices === '' ? [] : ['  <devices>', `    ${devices}`, '  </devices>']),
    '</domain>',
    '',
  ].join('\n');
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'vn-virsh-test-'));
}

export async function writeTemp(dir: string, file: string, text: string): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** A plain, separate `virsh -c URI ARGS…`: the reference the session is compared with. */
export async function plainVirsh(args: readonly string[], uri = SYSTEM_URI): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  const result = await execa('virsh', ['-c', uri, ...args], { reject: false, stripFinalNewline: false });
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
}

/** Destroys and undefines each guest, ignoring guests that are already gone. */
export async function removeGuests(names: Iterable<string>, uri = SYSTEM_URI): Promise<void> {
  for (const name of names) {
    await plainVirsh(['destroy', '--domain', name], uri);
    await plainVirsh(['undefine', '--domain', name, '--nvram'], uri);
  }
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}
