/**
 * The KVM module as the running kernel has it: loaded or not, and its `nested` parameter. Read
 * from `/sys/module` (and `/proc/modules`), never from `lsmod`, which some machines lack.
 */
import type { KvmModule } from './cpuinfo.js';
import { pathExists, readTextIfExists } from './root-files.js';

/**
 * The running state of a KVM module.
 *
 * @example
 * const state: KvmModuleState = { loaded: true, nested: 'Y', nestedEnabled: true };
 */
export interface KvmModuleState {
  /** `/sys/module/MODULE` exists, or `/proc/modules` lists it. */
  readonly loaded: boolean;
  /** What `/sys/module/MODULE/parameters/nested` reads, trimmed; `undefined` when it does not exist. */
  readonly nested: string | undefined;
  /** `nested` reads `1` or `Y`, as the seed says. */
  readonly nestedEnabled: boolean;
}

/**
 * Whether a `nested` parameter as read from `/sys/module/MODULE/parameters/nested` turns nesting on:
 * it reads `1` (kvm_amd) or `Y` (kvm_intel), as the seed says.
 *
 * @example
 * nestedIsOn('Y'); // true
 * nestedIsOn('0'); // false
 */
export function nestedIsOn(nested: string | undefined): boolean {
  return nested === '1' || nested === 'Y';
}

/**
 * Reads whether `module` is loaded under `root`, and its `nested` parameter.
 *
 * @example
 * const { loaded, nestedEnabled } = await readKvmModuleState('/', 'kvm_amd');
 */
export async function readKvmModuleState(root: string, module: KvmModule): Promise<KvmModuleState> {
  let loaded = await pathExists(root, `/sys/module/${module}`);
  if (!loaded) {
    const modules = await readTextIfExists(root, '/proc/modules');
    loaded = modules !== undefined && modules.split('\n').some((line) => line.split(' ')[0] === module);
  }
  const nested = (await readTextIfExists(root, `/sys/module/${module}/parameters/nested`))?.trim();
  return { loaded, nested, nestedEnabled: nestedIsOn(nested) };
}
