import type { CliIo } from './io.js';
import { VirtNestedError } from '../errors.js';

/** `virt-nested check-guest`: not built yet. */
export async function run(_args: string[], _options: Record<string, unknown>, _io: CliIo): Promise<number> {
  throw new VirtNestedError('USAGE', 'check-guest is not available yet');
}
