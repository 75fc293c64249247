import type { Memory } from './types.js';

/** libvirt's memory units in bytes (formatdomain "Memory Allocation"); the default is KiB. */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1, bytes: 1,
  kb: 1e3, k: 1024, kib: 1024,
  mb: 1e6, m: 1024 ** 2, mib: 1024 ** 2,
  gb: 1e9, g: 1024 ** 3, gib: 1024 ** 3,
  tb: 1e12, t: 1024 ** 4, tib: 1024 ** 4,
  pb: 1e15, p: 1024 ** 5, pib: 1024 ** 5,
  eb: 1e18, e: 1024 ** 6, eib: 1024 ** 6,
};

/**
 * A memory amount from its text and `unit` attribute, normalized to KiB (rounded up, as libvirt does).
 * Undefined when the text is not a number or the unit is unknown.
 *
 * @example
 * memoryOf('48', 'MiB') // { kib: 49152, value: 48, unit: 'MiB' }
 */
export function memoryOf(text: string, unit: string | undefined): Memory | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  const bytes = UNIT_BYTES[(unit ?? 'KiB').toLowerCase()];
  if (bytes === undefined) return undefined;
  return Object.freeze({ kib: Math.ceil((value * bytes) / 1024), value, unit: unit ?? 'KiB' });
}
