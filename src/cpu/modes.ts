import type { CpuMode } from '../domain/types.js';

/**
 * The CPU modes that give a guest the host's virtualization extensions, in the order `--help` lists
 * them. A module of its own so the CLI's flag parsing can use it without loading the editor.
 *
 * @example
 * CPU_MODES.includes('host-model') // true
 */
export const CPU_MODES: readonly CpuMode[] = ['host-model', 'host-passthrough'];
