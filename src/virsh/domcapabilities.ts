/**
 * `virsh domcapabilities`: what a host's emulator can run, read before defining a CPU mode. Reading
 * the document is `domcapabilities-xml.ts`, loaded only when one is read.
 */

import { VirshError } from '../errors.js';
import type { VirshRunOptions, VirshRunner } from './runner.js';

/**
 * Options of `domcapabilities`; each narrows the answer to one emulator, as in virsh.
 *
 * @example
 * await session.domcapabilities({ virttype: 'kvm', arch: 'x86_64', machine: 'pc-q35-7.2' });
 */
export interface DomcapabilitiesOptions extends VirshRunOptions {
  /** `--virttype`: the domain type, e.g. `kvm` or `qemu`. */
  virttype?: string;
  /** `--arch`, e.g. `x86_64`. */
  arch?: string;
  /** `--machine`, e.g. `pc-q35-7.2`. */
  machine?: string;
  /** `--emulator`: the emulator binary path. */
  emulator?: string;
}

/**
 * `virsh domcapabilities [--virttype T] [--arch A] [--machine M] [--emulator E]`: the XML, or
 * `undefined` when the connection's driver has no domcapabilities (libvirt's test driver: "this
 * function is not supported by the connection driver"), so that a caller can say "cannot check" and go
 * on. Any other failure (e.g. `--virttype kvm` on a host without KVM) throws `VIRSH_FAILED`.
 *
 * @example
 * const caps = await domcapabilities(session, { virttype: 'kvm', arch: 'x86_64' });
 * if (caps === undefined) console.warn('cannot check CPU modes'); else console.log(listedCpuModes(caps));
 */
export async function domcapabilities(runner: VirshRunner, options: DomcapabilitiesOptions = {}): Promise<string | undefined> {
  const args = ['domcapabilities'];
  for (const [option, value] of [
    ['--virttype', options.virttype],
    ['--arch', options.arch],
    ['--machine', options.machine],
    ['--emulatorbin', options.emulator],
  ] as const) {
    if (value !== undefined) args.push(option, value);
  }
  try {
    return (await runner.run(args, options)).stdout;
  } catch (error) {
    if (error instanceof VirshError && error.code === 'VIRSH_FAILED' && /not supported by the connection driver/.test(error.stderr)) return undefined;
    throw error;
  }
}

