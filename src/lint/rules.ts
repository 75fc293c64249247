/**
 * The lint rules on a parsed domain, as data: `{ id, severity, check }`. The rules that need no
 * parsed domain (xml-malformed, not-a-domain, doctype-forbidden, schema) live in `lint-text.ts`.
 */
import { positionsOf } from '../domain/positions.js';
import type { CpuMode, Domain } from '../domain/types.js';
import { CPU_MODES } from '../cpu/modes.js';
import { disablesVirtualization } from '../cpu/warnings.js';
import type { LineColumn } from '../xml/line-column.js';
import type { LintSeverity } from './problem.js';

/** What a rule needs besides the domain. */
export interface RuleContext {
  /** The mode templates must use, or 'any' of host-model/host-passthrough. */
  readonly requireMode: CpuMode | 'any';
}

/** A problem found by a rule, before the file name is attached. */
export interface RuleFinding {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A lint rule. */
export interface LintRule {
  readonly id: string;
  readonly severity: LintSeverity;
  /** One line for `docs/lint-rules.md` and `--help`. */
  readonly description: string;
  check(domain: Domain, context: RuleContext): RuleFinding[];
}


function at(position: LineColumn, message: string): RuleFinding {
  return { line: position.line, column: position.column, message };
}

/** Where to point for an attribute of `<cpu>`: the attribute, else the element. */
function cpuAttributePosition(domain: Domain, name: string): LineColumn {
  const { root, cpu } = positionsOf(domain);
  return cpu?.attributes[name] ?? cpu?.element ?? root;
}

const fixHint = (mode: string) => `virt-nested set-cpu --file FILE --mode ${mode} --write`;

/** Every rule on a parsed domain, in the order they are reported. */
export const DOMAIN_RULES: readonly LintRule[] = [
  {
    id: 'cpu-missing',
    severity: 'error',
    description: "the domain has no <cpu>: the guest gets the default CPU model, which does not pass the host's vmx/svm through",
    check(domain, context) {
      if (domain.cpu) return [];
      const mode = context.requireMode === 'any' ? 'host-model' : context.requireMode;
      return [at(positionsOf(domain).root, `no <cpu> element, so the guest gets the hypervisor's default CPU model, which does not pass the host's vmx/svm through; add <cpu mode='${mode}' check='partial'/> (${fixHint(mode)})`)];
    },
  },
  {
    id: 'cpu-mode',
    severity: 'error',
    description: 'the CPU mode is not host-model or host-passthrough (or not the one --require-mode names)',
    check(domain, context) {
      const cpu = domain.cpu;
      if (!cpu) return [];
      const mode = cpu.mode ?? 'custom';
      const wanted = context.requireMode === 'any' ? (CPU_MODES as readonly string[]) : [context.requireMode];
      if (wanted.includes(mode)) return [];
      const target = context.requireMode === 'any' ? 'host-model' : context.requireMode;
      const written = cpu.mode === undefined ? "no mode (libvirt's default is custom)" : `mode='${mode}'`;
      const want = context.requireMode === 'any' ? "'host-model' or 'host-passthrough'" : `'${context.requireMode}'`;
      return [at(cpuAttributePosition(domain, 'mode'), `<cpu> has ${written}; nested virtualization needs ${want} (${fixHint(target)})`)];
    },
  },
  {
    id: 'cpu-check',
    severity: 'error',
    description: "the CPU check is not 'partial'",
    check(domain) {
      const cpu = domain.cpu;
      if (!cpu || cpu.check === 'partial') return [];
      const written = cpu.check === undefined ? 'no check attribute' : `check='${cpu.check}'`;
      return [at(cpuAttributePosition(domain, 'check'), `<cpu> has ${written}; use check='partial' so the guest starts even when the host lacks a feature a full check demands`)];
    },
  },
  {
    id: 'nested-feature-disabled',
    severity: 'error',
    description: 'a <feature> with policy disable or forbid removes vmx/svm from the guest',
    check(domain) {
      const features = domain.cpu?.features ?? [];
      const where = positionsOf(domain).cpu?.features ?? [];
      const findings: RuleFinding[] = [];
      features.forEach((feature, i) => {
        const position = where[i];
        if (position && disablesVirtualization(feature)) {
          findings.push(at(position, `<feature policy='${feature.policy}' name='${feature.name}'/> hides ${feature.name} from the guest and defeats nested virtualization; remove it`));
        }
      });
      return findings;
    },
  },
  {
    id: 'cpu-passthrough-migration',
    severity: 'warning',
    description: 'host-passthrough ties migration to hosts with an identical CPU',
    check(domain) {
      if (domain.cpu?.mode !== 'host-passthrough') return [];
      return [at(cpuAttributePosition(domain, 'mode'), 'host-passthrough ties the guest to hosts with an identical CPU for migration; host-model does not')];
    },
  },
];

/** The rules that come before a domain exists: its text is not usable domain XML. */
export const TEXT_RULES = [
  { id: 'file-unreadable', severity: 'error', description: 'the file cannot be read as domain XML: not a regular file, larger than 10 MiB, unreadable, or not in an encoding virt-nested reads' },
  { id: 'xml-malformed', severity: 'error', description: 'the file is not well-formed XML (or is over the size limit)' },
  { id: 'doctype-forbidden', severity: 'error', description: 'the file has a DOCTYPE or entity declaration' },
  { id: 'not-a-domain', severity: 'error', description: 'the root element is not <domain>' },
  { id: 'schema', severity: 'error', description: "the file is not valid against libvirt's RelaxNG schema (domain.rng)" },
  { id: 'schema-too-large', severity: 'error', description: 'the file is beyond what the schema rule validates (1 MiB, 10,000 elements, 1,000 attributes on one element), so it was not validated' },
] as const;
