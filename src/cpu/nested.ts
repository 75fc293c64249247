/**
 * The words of `--nested`: what set-cpu does with the vmx/svm `<feature>`s of a guest's `<cpu>`. A
 * module of its own so the CLI's flag parsing can use it without loading the editor.
 */
import type { CpuFeature } from '../domain/types.js';

/**
 * 'keep' leaves vmx/svm `<feature>`s as they are; 'on' removes what disables them (and requires the
 * host's flag where the host-model CPU would leave it out); 'off' disables both.
 *
 * @example
 * const nested: NestedPolicy = 'off';
 */
export type NestedPolicy = 'keep' | 'on' | 'off';

/**
 * Every {@link NestedPolicy}, in the order `--help` lists them.
 *
 * @example
 * NESTED_POLICIES.includes('on') // true
 */
export const NESTED_POLICIES: readonly NestedPolicy[] = ['keep', 'on', 'off'];

/**
 * The policies `set-cpu --nested` takes: leaving the option out is 'keep'.
 *
 * @example
 * NESTED_CHOICES // ['on', 'off']
 */
export const NESTED_CHOICES: readonly NestedPolicy[] = NESTED_POLICIES.filter((policy) => policy !== 'keep');

/**
 * The host-model CPU a host's `virsh domcapabilities` offers (`<mode name='host-model'>`): what a
 * guest with mode='host-model' gets there. Read it with `hostModelCpu(xml)`.
 *
 * @example
 * const hostModel: HostModelCpu = { model: 'EPYC-Milan', vendor: 'AMD', features: [{ name: 'svm', policy: 'disable' }] };
 */
export interface HostModelCpu {
  readonly model: string | undefined;
  /** `Intel`, `AMD`, `Hygon`…; it says which flag (vmx or svm) the host has. */
  readonly vendor: string | undefined;
  /** The features libvirt adds to or takes from the model for this host. */
  readonly features: readonly CpuFeature[];
}
