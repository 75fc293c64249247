/**
 * The KVM module as the running kernel has it: loaded or not, its `nested` parameter, and its use
 * count. Read from `/sys/module` (and `/proc/modules`), never from `lsmod`, which some machines lack.
 */
import type { KvmModule } from './cpuinfo.js';
import { createHostFs, type HostFs } from './host-fs.js';

/**
 * The running state of a KVM module.
 *
 * @example
 * const state: KvmModuleState = { loaded: true, nested: 'Y', nestedEnabled: true, useCount: 0 };
 */
export interface KvmModuleState {
  /** `/sys/module/MODULE` exists, or `/proc/modules` lists it. */
  readonly loaded: boolean;
  /** What `/sys/module/MODULE/parameters/nested` reads, trimmed; `undefined` when it does not exist. */
  readonly nested: string | undefined;
  /** `nested` reads `1` or `Y`, as the seed says. */
  readonly nestedEnabled: boolean;
  /**
   * What holds the module, as the kernel counts it (`/sys/module/MODULE/refcnt`, lsmod's "Used by"):
   * every process with `/dev/kvm` open, a QEMU that libvirt does not know included. `undefined` when
   * the kernel gives no count.
   */
  readonly useCount: number | undefined;
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
 * Reads whether `module` is loaded on the machine under `root` (a directory, or the `HostFs` of one),
 * its `nested` parameter and its use count.
 *
 * @example
 * const { loaded, nestedEnabled, useCount } = await readKvmModuleState('/', 'kvm_amd');
 */
export async function readKvmModuleState(root: string | HostFs, module: KvmModule): Promise<KvmModuleState> {
  const fs = typeof root === 'string' ? createHostFs(root) : root;
  let loaded = await fs.exists(`/sys/module/${module}`);
  let procCount: number | undefined;
  const modules = await fs.readText('/proc/modules');
  const line = modules?.split('\n').find((entry) => entry.split(' ')[0] === module);
  if (line !== undefined) {
    loaded = true;
    procCount = Number.parseInt(line.split(' ')[2] ?? '', 10);
  }
  const nested = (await fs.readText(`/sys/module/${module}/parameters/nested`))?.trim();
  const refcnt = Number.parseInt((await fs.readText(`/sys/module/${module}/refcnt`)) ?? '', 10);
  const count = Number.isNaN(refcnt) ? procCount : refcnt;
  return { loaded, nested, nestedEnabled: nestedIsOn(nested), useCount: count === undefined || Number.isNaN(count) || !loaded ? undefined : count };
}
