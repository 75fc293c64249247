import { DomainXmlError } from '../errors.js';
import { attributeOf, childOf, scanXml, textOf, type XmlDocument, type XmlElement } from '../xml/scan.js';
import { lineColumnAt } from '../xml/line-column.js';
import { attachDocument } from './document-of.js';
import { memoryOf } from './memory.js';
import type {
  CpuTopology, Device, Disk, Domain, DomainCpu, DomainDevices, DomainOs, DomainWarning, Graphics, Interface, Vcpu,
} from './types.js';

/** Options of {@link parseDomain}. */
export interface ParseDomainOptions {
  /** Refuse input larger than this many bytes (default 10 MiB). */
  readonly maxBytes?: number;
  /** The file the XML came from, named in error messages. */
  readonly file?: string;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const optionalNumber = (text: string | undefined): number | undefined => {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  return Number(text);
};

const attributesOf = (element: XmlElement): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const a of element.attributes) out[a.name] = a.value;
  return out;
};

function cpuOf(cpu: XmlElement, doc: XmlDocument): DomainCpu {
  const model = childOf(cpu, 'model');
  const vendor = childOf(cpu, 'vendor');
  const topologyElement = childOf(cpu, 'topology');
  let topology: CpuTopology | undefined;
  if (topologyElement) {
    const n = (name: string) => optionalNumber(attributeOf(topologyElement, name));
    topology = { sockets: n('sockets'), dies: n('dies'), clusters: n('clusters'), cores: n('cores'), threads: n('threads') };
  }
  return {
    mode: attributeOf(cpu, 'mode'),
    check: attributeOf(cpu, 'check'),
    match: attributeOf(cpu, 'match'),
    migratable: attributeOf(cpu, 'migratable'),
    model: model ? { name: textOf(doc, model).trim(), fallback: attributeOf(model, 'fallback') } : undefined,
    vendor: vendor ? textOf(doc, vendor).trim() : undefined,
    topology,
    features: cpu.children.filter((c) => c.name === 'feature')
      .map((f) => ({ name: attributeOf(f, 'name') ?? '', policy: attributeOf(f, 'policy') })),
  };
}

function osOf(os: XmlElement | undefined, doc: XmlDocument): DomainOs {
  const type = os ? childOf(os, 'type') : undefined;
  const loader = os ? childOf(os, 'loader') : undefined;
  return {
    type: type ? textOf(doc, type).trim() : undefined,
    arch: type ? attributeOf(type, 'arch') : undefined,
    machine: type ? attributeOf(type, 'machine') : undefined,
    firmware: os ? attributeOf(os, 'firmware') : undefined,
    loader: loader ? textOf(doc, loader).trim() || undefined : undefined,
    boot: os ? os.children.filter((c) => c.name === 'boot').map((b) => attributeOf(b, 'dev') ?? '') : [],
  };
}

const firstAttribute = (element: XmlElement | undefined, names: readonly string[]): string | undefined => {
  if (!element) return undefined;
  for (const name of names) {
    const value = attributeOf(element, name);
    if (value !== undefined) return value;
  }
  return undefined;
};

function deviceOf(element: XmlElement): Device {
  const base = { kind: element.name, type: attributeOf(element, 'type'), attributes: attributesOf(element) };
  switch (element.name) {
    case 'disk': {
      const target = childOf(element, 'target');
      const driver = childOf(element, 'driver');
      const disk: Disk = {
        ...base,
        kind: 'disk',
        device: attributeOf(element, 'device'),
        target: target ? { dev: attributeOf(target, 'dev'), bus: attributeOf(target, 'bus') } : undefined,
        source: firstAttribute(childOf(element, 'source'), ['file', 'dev', 'dir', 'volume', 'name']),
        driver: driver ? { name: attributeOf(driver, 'name'), type: attributeOf(driver, 'type') } : undefined,
      };
      return disk;
    }
    case 'interface': {
      const nic: Interface = {
        ...base,
        kind: 'interface',
        mac: firstAttribute(childOf(element, 'mac'), ['address']),
        source: firstAttribute(childOf(element, 'source'), ['network', 'bridge', 'dev']),
        model: firstAttribute(childOf(element, 'model'), ['type']),
      };
      return nic;
    }
    case 'graphics': {
      const graphics: Graphics = {
        ...base,
        kind: 'graphics',
        port: attributeOf(element, 'port'),
        listen: attributeOf(element, 'listen') ?? firstAttribute(childOf(element, 'listen'), ['address']),
        passwd: attributeOf(element, 'passwd'),
      };
      return graphics;
    }
    default:
      return base;
  }
}

/** Device element names that have a list of their own on `DomainDevices`. */
const DEVICE_LISTS: Readonly<Record<string, keyof DomainDevices>> = {
  disk: 'disks', interface: 'interfaces', graphics: 'graphics', controller: 'controllers', hostdev: 'hostdevs',
  video: 'videos', serial: 'serials', console: 'consoles', channel: 'channels', input: 'inputs', sound: 'sounds',
  filesystem: 'filesystems', rng: 'rngs', tpm: 'tpms', watchdog: 'watchdogs', memballoon: 'memballoons',
};

function devicesOf(devices: XmlElement | undefined, doc: XmlDocument): DomainDevices {
  const lists: Record<string, Device[]> = {};
  for (const key of Object.values(DEVICE_LISTS)) lists[key] = [];
  const all: Device[] = [];
  let emulator: string | undefined;
  for (const child of devices?.children ?? []) {
    if (child.name === 'emulator') {
      emulator = textOf(doc, child).trim();
      continue;
    }
    const device = deviceOf(child);
    all.push(device);
    const list = DEVICE_LISTS[child.name];
    if (list) lists[list]?.push(device);
  }
  return { ...(lists as unknown as Omit<DomainDevices, 'emulator' | 'all'>), emulator, all };
}

/** A domain's warnings, or how to work them out from the domain itself (read when first asked for). */
type WarningsOf = readonly DomainWarning[] | ((domain: Domain) => readonly DomainWarning[]);

/** The fields of `Domain`, in the order `toJSON` writes them. */
const DOMAIN_FIELDS = [
  'type', 'name', 'uuid', 'title', 'description', 'memory', 'currentMemory', 'vcpu', 'os', 'features', 'cpu', 'devices', 'warnings',
] as const;

/**
 * The model as a view on the scan: each field is read from the source when first asked for, then
 * kept (frozen). Parsing a domain to edit its `<cpu>` never builds the parts nobody reads.
 */
class DomainView implements Domain {
  readonly #doc: XmlDocument;
  readonly #warnings: WarningsOf;
  readonly #cache = new Map<string, unknown>();

  constructor(doc: XmlDocument, warnings: WarningsOf) {
    this.#doc = doc;
    this.#warnings = warnings;
    Object.freeze(this);
  }

  #get<T>(field: string, read: (doc: XmlDocument, root: XmlElement) => T): T {
    if (!this.#cache.has(field)) this.#cache.set(field, deepFreeze(read(this.#doc, this.#doc.root)));
    return this.#cache.get(field) as T;
  }

  get type() { return this.#get('type', (_, root) => attributeOf(root, 'type')); }
  // libvirt keeps a name exactly as written (spaces at either end included)
  get name() { return this.#get('name', (doc, root) => textOfChild(doc, root, 'name')); }
  get uuid() { return this.#get('uuid', (doc, root) => textOfChild(doc, root, 'uuid')?.trim()); }
  get title() { return this.#get('title', (doc, root) => textOfChild(doc, root, 'title')); }
  get description() { return this.#get('description', (doc, root) => textOfChild(doc, root, 'description')); }
  get memory() { return this.#get('memory', (doc, root) => memoryOfChild(doc, root, 'memory')); }
  get currentMemory() { return this.#get('currentMemory', (doc, root) => memoryOfChild(doc, root, 'currentMemory')); }
  get vcpu() { return this.#get('vcpu', vcpuOf); }
  get os() { return this.#get('os', (doc, root) => osOf(childOf(root, 'os'), doc)); }
  get features() { return this.#get('features', (_, root) => childOf(root, 'features')?.children.map((f) => f.name) ?? []); }
  get cpu() {
    return this.#get('cpu', (doc, root) => {
      const cpu = childOf(root, 'cpu');
      return cpu ? cpuOf(cpu, doc) : undefined;
    });
  }
  get devices() { return this.#get('devices', (doc, root) => devicesOf(childOf(root, 'devices'), doc)); }
  get warnings(): readonly DomainWarning[] {
    return this.#get('warnings', () => [...(typeof this.#warnings === 'function' ? this.#warnings(this) : this.#warnings)]);
  }

  /** Every field, for `JSON.stringify(domain)`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of DOMAIN_FIELDS) out[field] = this[field];
    return out;
  }
}

function textOfChild(doc: XmlDocument, root: XmlElement, name: string): string | undefined {
  const e = childOf(root, name);
  return e ? textOf(doc, e) : undefined;
}

function memoryOfChild(doc: XmlDocument, root: XmlElement, name: string) {
  const e = childOf(root, name);
  return e ? memoryOf(textOf(doc, e), attributeOf(e, 'unit')) : undefined;
}

function vcpuOf(doc: XmlDocument, root: XmlElement): Vcpu | undefined {
  const e = childOf(root, 'vcpu');
  return e
    ? {
      count: optionalNumber(textOf(doc, e)) ?? 0,
      placement: attributeOf(e, 'placement'),
      current: optionalNumber(attributeOf(e, 'current')),
      cpuset: attributeOf(e, 'cpuset'),
    }
    : undefined;
}

/**
 * Builds the model of a scanned document whose root is `<domain>`, with `warnings`.
 * Internal: `parseDomain` and `setCpuMode` share it.
 */
export function domainOf(doc: XmlDocument, warnings: WarningsOf): Domain {
  const domain = new DomainView(doc, warnings);
  attachDocument(domain, doc);
  return domain;
}

/**
 * Parses libvirt domain XML (as `virsh dumpxml` writes it, or a template) into a read-only
 * {@link Domain}. Throws {@link DomainXmlError} for malformed XML, a DOCTYPE or entity declaration,
 * input over `maxBytes` (10 MiB by default), or a root element other than `<domain>`.
 *
 * @example
 * const domain = parseDomain(await readFile('web-1.xml', 'utf8'));
 * domain.name        // 'web-1'
 * domain.cpu?.mode   // 'host-model'
 * domain.memory?.kib // 2097152
 */
export function parseDomain(xml: string, options: ParseDomainOptions = {}): Domain {
  if (typeof xml !== 'string') throw new TypeError('parseDomain expects the XML as a string');
  const doc = scanXml(xml, options);
  if (doc.root.name !== 'domain') {
    const { line, column } = lineColumnAt(xml, doc.root.start);
    const at = options.file === undefined ? '' : `${options.file}:${line}:${column}: `;
    throw new DomainXmlError('XML_NOT_DOMAIN', `${at}the root element is <${doc.root.name}>, not <domain>; this is not libvirt domain XML`, line, column, options.file);
  }
  return domainOf(doc, []);
}

