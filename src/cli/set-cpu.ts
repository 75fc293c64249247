import { VirtNestedError } from '../errors.js';
import type { CpuMode } from '../domain/types.js';
import type { CliIo } from './io.js';

/** `virt-nested set-cpu`: a file (`--file`) or guests through libvirt. */
export async function run(guests: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const mode = options['mode'] as CpuMode | undefined;
  const file = options['file'] as string | undefined;
  if (options['json'] && options['jsonLines']) throw new VirtNestedError('USAGE', '--json and --json-lines cannot be combined; pick one');
  if (file !== undefined) {
    if (guests.length > 0) throw new VirtNestedError('USAGE', 'give either --file PATH or guest names, not both');
    return (await import('./set-cpu-file.js')).runFile(file, mode ?? 'host-model', options, io);
  }
  if (options['write']) throw new VirtNestedError('USAGE', '--write works only with --file PATH');
  return (await import('./set-cpu-guests.js')).runGuests(guests, mode, options, io);
}
