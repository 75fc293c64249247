/**
 * Everything set-cpu can decide about a guest without touching it, whether it runs or not: its
 * persistent definition (`dumpxml --inactive --security-info`), what domcapabilities says the host can
 * run, and the edit. A running guest is shut down only after this said there is something to do and
 * that the host can run it.
 */
import { VirtNestedError } from '../errors.js';
import { setCpuMode, type CpuCheck } from '../cpu/set-cpu-mode.js';
import { CPU_MODES } from '../cpu/modes.js';
import type { HostModelCpu, NestedPolicy } from '../cpu/nested.js';
import { parseDomain } from '../domain/parse-domain.js';
import { serializeDomain } from '../domain/serialize-domain.js';
import type { CpuMode, Domain, DomainWarning } from '../domain/types.js';
import { dominfo } from '../virsh/dominfo.js';
import type { Remember } from '../virsh/session-memo.js';
import type { VirshSession } from '../virsh/session.js';

/** What planning needs of a virsh session. */
export type PlanningCommands = Pick<VirshSession, 'uri' | 'run' | 'dumpxml' | 'domcapabilities'> & {
  /** The session's memory (every session has one); without it, each guest asks domcapabilities again. */
  readonly remember?: Remember;
};

/**
 * A warning on a set-cpu result: the edit's own ({@link DomainWarning}) or the workflow's.
 *
 * @example
 * const warning: ApplyWarning = { code: 'domcapabilities-unavailable', message: 'libvirt at test:///default cannot tell …' };
 */
export interface ApplyWarning {
  readonly code:
    | DomainWarning['code']
    | 'domcapabilities-unavailable'
    | 'nested-guests-block-save'
    | 'lifecycle-events-unavailable'
    | 'backup-metadata-unwritten';
  readonly message: string;
}

/**
 * The warning every changed guest gets: a guest running nested guests cannot be saved or migrated.
 *
 * @example
 * result.warnings.some((w) => w.code === NESTED_SAVE_WARNING.code)
 */
export const NESTED_SAVE_WARNING: ApplyWarning = {
  code: 'nested-guests-block-save',
  message: 'while the guest runs nested guests it cannot be saved or live-migrated; stop them first',
};

/**
 * A guest's state; whether libvirt has given it an id (it does so early in a start, while the state
 * still reads "shut off", right after copying the persistent definition for the new process); and
 * whether it has a managed save image (which `domstate` does not show).
 */
export interface GuestState {
  readonly state: string;
  readonly active: boolean;
  readonly managedSave: boolean;
}

/** Reads go to virsh without waiting for the command ahead: none of them changes anything. */
const READ = { pipeline: true } as const;

/**
 * `virsh dominfo`: the guest's state and whether it has a managed save image.
 *
 * @example
 * await readState(session, 'web-1') // { state: 'shut off', active: false, managedSave: false }
 */
export async function readState(session: Pick<VirshSession, 'run'>, guest: string): Promise<GuestState> {
  const { state, id, managedSave } = await dominfo(session, guest, READ);
  // libvirt gives a starting guest its id while the state still reads "shut off"
  return { state, active: state !== 'shut off' || id !== undefined, managedSave };
}

/**
 * The persistent definition with its secrets (`dumpxml --inactive --security-info`): what a running
 * guest gets at its next start, and what define must be given back.
 *
 * @example
 * const xml = await readDefinition(session, 'web-1');
 */
export async function readDefinition(session: Pick<VirshSession, 'dumpxml'>, guest: string): Promise<string> {
  return session.dumpxml(guest, { inactive: true, securityInfo: true, ...READ });
}

/**
 * The guest's state and persistent definition, asked of virsh together.
 *
 * @example
 * const [state, xml] = await readGuest(session, 'web-1');
 */
export async function readGuest(session: Pick<VirshSession, 'run' | 'dumpxml'>, guest: string): Promise<[GuestState, string]> {
  return Promise.all([readState(session, guest), readDefinition(session, guest)]);
}

/** What domcapabilities says of one emulator/arch/machine/virttype. */
interface HostCpuCapabilities {
  /** The CPU modes it lists, each with whether it is supported. */
  readonly modes: ReadonlyMap<string, boolean>;
  /** Parsed only when asked (`nested: 'on'`): most of the document is the custom models' list. */
  readonly hostModel: () => HostModelCpu | undefined;
}

type DomcapabilitiesXml = typeof import('../virsh/domcapabilities-xml.js');

function capabilitiesOf(xml: string, { listedCpuModes, hostModelCpu }: DomcapabilitiesXml): HostCpuCapabilities {
  let hostModel: { readonly cpu: HostModelCpu | undefined } | undefined;
  return {
    modes: listedCpuModes(xml),
    hostModel: () => (hostModel ??= { cpu: hostModelCpu(xml) }).cpu,
  };
}

/**
 * What libvirt says about the CPU for this guest's emulator, arch, machine and virt type; undefined
 * when the connection has no domcapabilities (libvirt's test driver). Asked once per session for
 * each such combination (the guests of one host mostly share them): the session keeps the answer.
 */
/**
 * The domcapabilities reader (fast-xml-parser), loaded on first use: a command that reads no
 * domcapabilities never loads it, and planning starts loading it while virsh reads the guest.
 */
let reader: Promise<DomcapabilitiesXml> | undefined;
const domcapabilitiesReader = () => (reader ??= import('../virsh/domcapabilities-xml.js'));

function hostCpuCapabilities(session: PlanningCommands, domain: Domain): Promise<HostCpuCapabilities | undefined> {
  const options = {
    ...(domain.devices.emulator ? { emulator: domain.devices.emulator } : {}),
    ...(domain.os.arch ? { arch: domain.os.arch } : {}),
    ...(domain.os.machine ? { machine: domain.os.machine } : {}),
    ...(domain.type ? { virttype: domain.type } : {}),
  };
  const ask = async () => {
    const caps = await session.domcapabilities(options);
    return caps === undefined ? undefined : capabilitiesOf(caps, await domcapabilitiesReader());
  };
  // a stand-in for a session (tests) may keep nothing: then each guest asks
  return session.remember ? session.remember(`domcapabilities ${JSON.stringify(options)}`, ask) : ask();
}

/** What set-cpu is asked to do to each guest. */
export interface CpuModeRequest {
  /** The mode to set; default host-model, except that with `nested` 'on'/'off' a host-model or host-passthrough guest keeps its own. */
  readonly mode?: CpuMode;
  readonly nested?: NestedPolicy;
  readonly check?: CpuCheck;
}

/**
 * The mode a request means for `domain`: the one asked; else, when only `nested` is asked, the
 * guest's own host-model or host-passthrough; else host-model.
 *
 * @example
 * resolveMode(domain, { nested: 'off' }) // 'host-passthrough' for a host-passthrough guest
 */
export function resolveMode(domain: Domain, request: CpuModeRequest): CpuMode {
  if (request.mode !== undefined) return request.mode;
  const own = domain.cpu?.mode;
  if (request.nested !== undefined && request.nested !== 'keep' && CPU_MODES.includes(own as CpuMode)) return own as CpuMode;
  return 'host-model';
}

/** What {@link planCpuMode} decided for one guest. */
export interface CpuModePlan {
  readonly guest: string;
  readonly state: GuestState;
  /** The persistent definition as read (`--inactive --security-info`). */
  readonly original: string;
  readonly domain: Domain;
  readonly mode: CpuMode;
  /** The edited definition. */
  readonly next: Domain;
  readonly edited: string;
  /** The edit changes the definition. */
  readonly changed: boolean;
  readonly warnings: readonly ApplyWarning[];
}

/**
 * Decides what set-cpu would do to a guest, touching nothing, whatever its state: reads its state and
 * persistent definition, refuses (`MODE_UNSUPPORTED`) a mode domcapabilities says the host cannot
 * run, and computes the edit. Throws `GUEST_NOT_FOUND` when virsh finds another guest than the one
 * named (a name read as an ID or UUID).
 *
 * @example
 * const plan = await planCpuMode(session, 'web-1', { nested: 'on' });
 * if (!plan.changed) console.log('nothing to do');
 */
export async function planCpuMode(session: PlanningCommands, guest: string, request: CpuModeRequest): Promise<CpuModePlan> {
  const who = `guest "${guest}"`;
  domcapabilitiesReader().catch(() => undefined);
  const [state, original] = await readGuest(session, guest);
  const domain = parseDomain(original, { file: `the definition of ${who}` });
  // virsh looks `--domain` up as an ID, then a UUID, then a name: a guest named "5" could be another one
  if (domain.name !== guest && domain.uuid !== guest) {
    throw new VirtNestedError('GUEST_NOT_FOUND',
      `"${guest}" led virsh to guest "${domain.name ?? '?'}" (virsh reads a name as an ID or UUID first); nothing was changed, name the guest by its UUID instead`);
  }
  const mode = resolveMode(domain, request);
  const capabilities = await hostCpuCapabilities(session, domain);
  const warnings: ApplyWarning[] = [];
  if (capabilities === undefined) {
    warnings.push({ code: 'domcapabilities-unavailable', message: `libvirt at ${session.uri} cannot tell whether ${mode} is supported (no domcapabilities); not checked` });
  } else if (capabilities.modes.get(mode) !== true) {
    throw new VirtNestedError('MODE_UNSUPPORTED',
      `${mode} is not supported for ${who} (${domain.type ?? '?'} ${domain.os.arch ?? ''} ${domain.os.machine ?? ''}) according to libvirt's domcapabilities at ${session.uri}; nothing was changed`.replace(/\s+\)/, ')'));
  }
  const hostModel = request.nested === 'on' ? capabilities?.hostModel() : undefined;
  const next = setCpuMode(domain, mode, {
    ...(request.check ? { check: request.check } : {}),
    ...(request.nested ? { nested: request.nested } : {}),
    ...(hostModel ? { hostModel } : {}),
  });
  warnings.push(...next.warnings);
  const edited = serializeDomain(next);
  return { guest, state, original, domain, mode, next, edited, changed: edited !== original, warnings };
}
