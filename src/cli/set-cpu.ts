import type { CliIo } from './io.js';
import { VirtNestedError } from '../errors.js';

/** `virt-nested set-cpu`: not built yet. */
export async function run(_args: string[], _options: Record<string, unknown>, _io: CliIo): Promise<number> {
  throw new VirtNestedError('USAGE', 'set-cpu is not available yet');
}
