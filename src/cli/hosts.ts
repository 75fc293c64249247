import { readFile } from 'node:fs/promises';
import { VirtNestedError } from '../errors.js';

/**
 * The libvirt URIs a command works on: every `-c URI`, then every line of `--hosts-file` (blank lines
 * and `#` comments skipped); none means virsh's own default (`LIBVIRT_DEFAULT_URI`, libvirt.conf),
 * written as `undefined`.
 *
 * @example
 * await hostUris({ connect: ['qemu:///system'] }) // ['qemu:///system']
 */
export async function hostUris(options: Record<string, unknown>): Promise<Array<string | undefined>> {
  const uris: Array<string | undefined> = [...((options['connect'] as string[] | undefined) ?? [])];
  const file = options['hostsFile'] as string | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new VirtNestedError('USAGE', `cannot read the hosts file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    for (const line of text.split(/\r?\n/)) {
      const uri = line.replace(/#.*/, '').trim();
      if (uri) uris.push(uri);
    }
    if (uris.length === 0) throw new VirtNestedError('USAGE', `the hosts file ${file} names no libvirt URI`);
  }
  return uris.length ? [...new Set(uris)] : [undefined];
}

/**
 * `--jobs N` as a positive integer.
 *
 * @example
 * jobsOption({ jobs: '8' }) // 8
 */
export function jobsOption(options: Record<string, unknown>): number | undefined {
  const raw = options['jobs'] as string | undefined;
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(raw)) throw new VirtNestedError('USAGE', `--jobs must be a positive whole number, not ${JSON.stringify(raw)}`);
  return Number(raw);
}
