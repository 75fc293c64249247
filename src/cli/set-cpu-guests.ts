import { VirtNestedError } from '../errors.js';
import type { CpuMode } from '../domain/types.js';
import type { CliIo } from './io.js';

/** `virt-nested set-cpu GUEST…`: not built yet. */
export async function runGuests(_guests: string[], _mode: CpuMode, _options: Record<string, unknown>, _io: CliIo): Promise<number> {
  throw new VirtNestedError('USAGE', 'set-cpu GUEST is not available yet');
}
