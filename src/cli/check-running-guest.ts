import type { CliIo } from './io.js';
import { VirtNestedError } from '../errors.js';

/** `virt-nested check-guest GUEST`: not built yet. */
export async function run(_args: string[], _options: Record<string, unknown>, _io: CliIo): Promise<number> {
  throw new VirtNestedError('USAGE', 'check-guest GUEST is not available yet');
}
