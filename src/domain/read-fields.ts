/**
 * Where each field of {@link Domain} comes from in the XML, declared once: one reader per field, from
 * the scanned document and its root `<domain>`. The names are libvirt's own (formatdomain), so a
 * reader who knows the XML knows where to look.
 */
import type { XmlDocument, XmlElement } from '../xml/document.js';
import { attributeOf, childOf, textOf } from '../xml/read-element.js';
import { memoryOf } from './memory.js';
import type {
  CpuTopology, Device, Disk, Domain, DomainCpu, DomainDevices, DomainOs, Graphics, Interface, Vcpu,
} from './types.js';

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

/** The fields of a {@link Domain} that are read from its XML (all but `warnings`). */
type XmlFields = Omit<Domain, 'warnings'>;

/**
 * The reader of each field read from the XML, in the order `toJSON` writes them.
 *
 * @example
 * FIELD_READERS.name(doc, doc.root) // 'web-1'
 */
export const FIELD_READERS: { readonly [K in keyof XmlFields]: (doc: XmlDocument, root: XmlElement) => XmlFields[K] } = {
  type: (_, root) => attributeOf(root, 'type'),
  // libvirt keeps a name exactly as written (spaces at either end included)
  name: (doc, root) => textOfChild(doc, root, 'name'),
  uuid: (doc, root) => textOfChild(doc, root, 'uuid')?.trim(),
  title: (doc, root) => textOfChild(doc, root, 'title'),
  description: (doc, root) => textOfChild(doc, root, 'description'),
  memory: (doc, root) => memoryOfChild(doc, root, 'memory'),
  currentMemory: (doc, root) => memoryOfChild(doc, root, 'currentMemory'),
  vcpu: vcpuOf,
  os: (doc, root) => osOf(childOf(root, 'os'), doc),
  features: (_, root) => childOf(root, 'features')?.children.map((f) => f.name) ?? [],
  cpu: (doc, root) => {
    const cpu = childOf(root, 'cpu');
    return cpu ? cpuOf(cpu, doc) : undefined;
  },
  devices: (doc, root) => devicesOf(childOf(root, 'devices'), doc),
};
