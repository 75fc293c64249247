/**
 * setCpuMode: Domain → Domain, a pure function that plans splices of the source text. Only the bytes
 * of the top-level `<cpu>` change (or a new `<cpu/>` is inserted where libvirt writes it).
 */
import { VirtNestedError } from '../errors.js';
import { documentOf } from '../domain/document-of.js';
import { domainOf } from '../domain/domain-view.js';
import type { CpuMode, Domain } from '../domain/types.js';
import { scanXml } from '../xml/scan.js';
import { applySplices } from '../xml/splice.js';
import { editCpu, insertCpu } from './cpu-splices.js';
import { featureEdits } from './feature-edits.js';
import { CPU_CHECKS, CPU_MODES, type CpuCheck } from './modes.js';
import { NESTED_POLICIES, type HostModelCpu, type NestedPolicy } from './nested.js';
import { warningsFor } from './warnings.js';

export { CPU_MODES, type CpuCheck } from './modes.js';

/** Options of {@link setCpuMode}. */
export interface SetCpuModeOptions {
  /** The `check` attribute to set (default 'partial', as the how-to asks: it lets the guest start
   *  when the host lacks a feature a full check would demand). */
  readonly check?: CpuCheck;
  /**
   * What to do with vmx/svm `<feature>`s (default 'keep': they stay, and one that disables them is a
   * warning). 'off' disables both (`<feature policy='disable' name='vmx'/>` and `name='svm'`); 'on'
   * removes every `disable`/`forbid` policy on them and, given `hostModel`, requires the host's flag
   * where that CPU disables it.
   */
  readonly nested?: NestedPolicy;
  /** domcapabilities' host-model CPU of the host the guest runs on (see `hostModelCpu`); used by nested 'on'. */
  readonly hostModel?: HostModelCpu;
}

/**
 * Returns a new {@link Domain} whose top-level `<cpu>` has `mode` and `check='partial'` (or
 * `options.check`); the argument is not changed. An existing `<cpu>` is edited where it stands: `match`,
 * `<model>` and `<vendor>` (meaningful only for mode='custom') are dropped, and so is `migratable` unless
 * the new mode allows it (host-passthrough); every other attribute and child (`<topology>`, `<cache>`,
 * `<numa>`, `<feature>`…) is kept. `options.nested` 'off' disables vmx and svm with `<feature>`s, 'on'
 * removes what disables them (see {@link SetCpuModeOptions}). A missing `<cpu>` is
 * inserted where libvirt writes it (after `<os>`/`<idmap>`/`<features>`, else before
 * `<clock>`/`<on_*>`/`<pm>`/`<perf>`/`<devices>`, else last), in the document's own indentation,
 * newline and quote. Idempotent. The result's `warnings` say what would still keep the guest from
 * nested virtualization (a disabled vmx/svm feature, a non-x86 arch, a non-KVM driver) and what
 * host-passthrough costs.
 *
 * @example
 * const next = setCpuMode(parseDomain(xml), 'host-model');
 * serializeDomain(next) // …<cpu mode='host-model' check='partial'/>…
 * next.warnings         // [] or e.g. [{ code: 'nested-feature-disabled', … }]
 * serializeDomain(setCpuMode(parseDomain(xml), 'host-model', { nested: 'off' }))
 * // …<cpu mode='host-model' check='partial'><feature policy='disable' name='vmx'/><feature policy='disable' name='svm'/></cpu>…
 */
export function setCpuMode(domain: Domain, mode: CpuMode, options: SetCpuModeOptions = {}): Domain {
  if (!CPU_MODES.includes(mode)) {
    throw new VirtNestedError('USAGE', `the CPU mode must be host-model or host-passthrough, not ${JSON.stringify(mode)}`);
  }
  const check = options.check ?? 'partial';
  if (!CPU_CHECKS.includes(check)) {
    throw new VirtNestedError('USAGE', `check must be none, partial or full, not ${JSON.stringify(check)}`);
  }
  const nested = options.nested ?? 'keep';
  if (!NESTED_POLICIES.includes(nested)) {
    throw new VirtNestedError('USAGE', `nested must be keep, on or off, not ${JSON.stringify(nested)}`);
  }
  const doc = documentOf(domain);
  const cpu = doc.root.children.find((c) => c.name === 'cpu');
  const splices = cpu
    ? editCpu(doc, cpu, mode, check, featureEdits(cpu.children.filter((c) => c.name === 'feature'), nested, options.hostModel))
    : [insertCpu(doc, mode, check, featureEdits([], nested, options.hostModel).added)];
  const next = splices.length === 0 ? doc : scanXml(applySplices(doc.source, splices), { maxBytes: Infinity });
  return domainOf(next, (edited) => warningsFor(edited, mode, { nested }));
}
