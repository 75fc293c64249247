import type { CpuMode } from '../domain/types.js';

/**
 * The CPU modes that give a guest the host's virtualization extensions, in the order `--help` lists
 * them. A module of its own so the CLI's flag parsing can use it without loading the editor.
 *
 * @example
 * CPU_MODES.includes('host-model') // true
 */
export const CPU_MODES: readonly CpuMode[] = ['host-model', 'host-passthrough'];

/**
 * The `check` values libvirt accepts for a `<cpu>`.
 *
 * @example
 * const check: CpuCheck = 'partial';
 */
export type CpuCheck = 'none' | 'partial' | 'full';

/**
 * Every {@link CpuCheck}, in the order libvirt documents them.
 *
 * @example
 * CPU_CHECKS.includes('partial') // true
 */
export const CPU_CHECKS: readonly CpuCheck[] = ['none', 'partial', 'full'];
