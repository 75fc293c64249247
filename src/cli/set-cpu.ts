import { VirtNestedError } from '../errors.js';
import type { CpuMode } from '../domain/types.js';
import type { CliIo } from './io.js';

/** `virt-nested set-cpu`: a file (`--file`) or guests through libvirt. */
export async function run(guests: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const mode = options['mode'] as CpuMode;
  const file = options['file'] as string | undefined;
  if (file !== undefined) {
    if (guests.length > 0) throw new VirtNestedError('USAGE', 'give either --file PATH or guest names, not both');
    return (await import('./set-cpu-file.js')).runFile(file, mode, options, io);
  }
  if (options['write'] || options['diff']) throw new VirtNestedError('USAGE', '--write and --diff work only with --file PATH');
  return (await import('./set-cpu-guests.js')).runGuests(guests, mode, options, io);
}
