/**
 * What a nested policy asks of the vmx/svm `<feature>`s of a `<cpu>`: which to remove, which to give
 * another policy, which to add. Decided here from the features alone; `cpu-splices.ts` writes it.
 */
import type { XmlElement } from '../xml/document.js';
import { attributeOf } from '../xml/read-element.js';
import type { HostModelCpu, NestedPolicy } from './nested.js';
import { VIRTUALIZATION_FEATURES, disablesVirtualization, hostVirtualizationFlag } from './warnings.js';

/**
 * The `<feature>` changes that a nested policy asks of a `<cpu>`.
 *
 * @example
 * const edits: FeatureEdits = { removed: [], repoliced: [], added: [['disable', 'vmx'], ['disable', 'svm']] };
 */
export interface FeatureEdits {
  /** Existing `<feature>` elements to remove. */
  readonly removed: readonly XmlElement[];
  /** Existing `<feature>` elements whose policy becomes the given one. */
  readonly repoliced: ReadonlyArray<readonly [XmlElement, string]>;
  /** New `<feature policy=… name=…/>`, as [policy, name]. */
  readonly added: ReadonlyArray<readonly [string, string]>;
}

const NO_FEATURE_EDITS: FeatureEdits = { removed: [], repoliced: [], added: [] };

/**
 * The changes `nested` asks of `features` (the `<feature>` children of a `<cpu>`, none for a new one):
 * 'keep' none; 'off' disables vmx and svm; 'on' removes what disables them and, given the host's
 * host-model CPU, requires the host's flag unless that CPU requires it already.
 *
 * @example
 * featureEdits([], 'off').added // [['disable', 'vmx'], ['disable', 'svm']]
 */
export function featureEdits(features: readonly XmlElement[], nested: NestedPolicy, hostModel?: HostModelCpu): FeatureEdits {
  if (nested === 'keep') return NO_FEATURE_EDITS;
  const removed: XmlElement[] = [];
  const repoliced: Array<readonly [XmlElement, string]> = [];
  const added: Array<readonly [string, string]> = [];
  const named = (flag: string) => features.filter((f) => attributeOf(f, 'name') === flag);
  if (nested === 'off') {
    for (const flag of VIRTUALIZATION_FEATURES) {
      const existing = named(flag);
      if (existing.length === 0) added.push(['disable', flag]);
      for (const feature of existing) {
        if (!disablesVirtualization({ name: flag, policy: attributeOf(feature, 'policy') })) repoliced.push([feature, 'disable']);
      }
    }
    return { removed, repoliced, added };
  }
  for (const flag of VIRTUALIZATION_FEATURES) {
    for (const feature of named(flag)) {
      if (disablesVirtualization({ name: flag, policy: attributeOf(feature, 'policy') })) removed.push(feature);
    }
  }
  const flag = hostModel ? hostVirtualizationFlag(hostModel) : undefined;
  // libvirt lists a flag of the host-model's named model that it will not give as policy='disable', and
  // a flag it leaves out may be missing from the named model itself (QEMU's EPYC under KVM has no svm):
  // unless the host-model CPU requires the flag already, the guest requires it
  const required = hostModel?.features.some((f) => f.name === flag && (f.policy === 'require' || f.policy === 'force'));
  if (flag !== undefined && !required) {
    const kept = named(flag).filter((f) => !removed.includes(f));
    // an absent policy means require; optional would let libvirt drop the flag again
    for (const feature of kept) if (attributeOf(feature, 'policy') === 'optional') repoliced.push([feature, 'require']);
    if (kept.length === 0) added.push(['require', flag]);
  }
  return { removed, repoliced, added };
}
