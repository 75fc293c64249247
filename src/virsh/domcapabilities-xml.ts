/**
 * Reading a `domcapabilities` document (fast-xml-parser): which CPU modes the host supports, and its
 * host-model CPU. One reading, {@link listedCpuModes}, under both the guest workflow and the host checks.
 */
import { XMLParser } from 'fast-xml-parser';
import { VirtNestedError } from '../errors.js';
import type { HostModelCpu } from '../cpu/nested.js';
import type { CpuFeature } from '../domain/types.js';


const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  isArray: (tagName) => tagName === 'mode',
  // Only <cpu><mode name supported> is read: the rest (devices, features, each mode's models and
  // features: most of the document) is kept as raw text, not parsed into objects. A quarter of the
  // time, and set-cpu parses one of these for every guest type it meets.
  stopNodes: [
    'domainCapabilities.os',
    'domainCapabilities.memoryBacking',
    'domainCapabilities.devices',
    'domainCapabilities.features',
    'domainCapabilities.cpu.mode',
  ],
});

/**
 * The CPU modes a domcapabilities document lists, each with whether it is supported
 * (`<mode name='host-model' supported='yes'>`); a mode it does not list is absent. Throws
 * `XML_MALFORMED` for text that is not a `<domainCapabilities>` document.
 *
 * @example
 * listedCpuModes(xml).get('host-passthrough') // false (listed, unsupported), or undefined (not listed)
 */
export function listedCpuModes(xml: string): ReadonlyMap<string, boolean> {
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (error) {
    throw new VirtNestedError('XML_MALFORMED', `domcapabilities XML is malformed (${(error as Error).message.split('\n')[0]}); pass what virsh domcapabilities printed`);
  }
  const root = (document as { domainCapabilities?: unknown } | undefined)?.domainCapabilities;
  // An empty <domainCapabilities/> parses to '' (no children, no attributes).
  if (root !== '' && (root === null || typeof root !== 'object')) {
    throw new VirtNestedError('XML_MALFORMED', 'domcapabilities XML has no <domainCapabilities> root; pass what virsh domcapabilities printed');
  }
  const cpu = typeof root === 'object' ? (root as { cpu?: { mode?: unknown } }).cpu : undefined;
  const modes = Array.isArray(cpu?.mode) ? (cpu.mode as Array<{ name?: unknown; supported?: unknown }>) : [];
  const listed = new Map<string, boolean>();
  for (const mode of modes) {
    if (typeof mode.name === 'string' && !listed.has(mode.name)) listed.set(mode.name, mode.supported === 'yes');
  }
  return listed;
}

const hostModelParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  isArray: (tagName) => tagName === 'mode' || tagName === 'feature',
  stopNodes: ['domainCapabilities.os', 'domainCapabilities.memoryBacking', 'domainCapabilities.devices', 'domainCapabilities.features'],
});

const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? value.trim() : typeof value === 'object' && value !== null && typeof (value as { '#text'?: unknown })['#text'] === 'string'
    ? ((value as { '#text': string })['#text']).trim() : undefined;

/**
 * The host-model CPU a domcapabilities document offers (`<mode name='host-model' supported='yes'>`:
 * its model, vendor and the features libvirt adds or disables for this host), or undefined when
 * host-model is not supported there. `setCpuMode(…, { nested: 'on', hostModel })` uses it to require
 * the host's vmx/svm where this CPU disables it (kubevirt#10508, harvester#5243).
 *
 * @example
 * hostModelCpu(xml) // { model: 'EPYC-Milan', vendor: 'AMD', features: [{ name: 'svm', policy: 'disable' }, …] }
 */
export function hostModelCpu(xml: string): HostModelCpu | undefined {
  if (listedCpuModes(xml).get('host-model') !== true) return undefined;
  const document = hostModelParser.parse(xml) as { domainCapabilities?: { cpu?: { mode?: Array<Record<string, unknown>> } } };
  const mode = document.domainCapabilities?.cpu?.mode?.find((m) => m['name'] === 'host-model');
  if (mode === undefined) return undefined;
  const features: CpuFeature[] = [];
  for (const feature of (mode['feature'] as Array<{ name?: unknown; policy?: unknown }> | undefined) ?? []) {
    if (typeof feature.name === 'string') features.push({ name: feature.name, policy: typeof feature.policy === 'string' ? feature.policy : undefined });
  }
  return { model: textOf(mode['model']), vendor: textOf(mode['vendor']), features };
}
