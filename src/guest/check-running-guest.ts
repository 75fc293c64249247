/**
 * Asks QEMU, from the host, whether a running guest's vCPU really has vmx/svm: no agent in the guest,
 * no login. Read-only QMP through `virsh qemu-monitor-command` (libvirt marks the guest
 * "custom-monitor" tainted in its log for it), all in one virsh session.
 */
import { VirshError, VirtNestedError } from '../errors.js';
import { parseDomain } from '../domain/parse-domain.js';
import type { Domain } from '../domain/types.js';
import { CPU_MODES } from '../cpu/modes.js';
import { disabledVirtualizationFeatures } from '../cpu/warnings.js';
import type { VirshSession } from '../virsh/session.js';
import type { Check } from '../host/report.js';
import { setCpuHint, virshHint } from '../virsh/hint.js';
import type { KvmModule } from '../host/cpuinfo.js';
import { readKvmModuleState } from '../host/kvm-module.js';

/** What `check-guest GUEST --json` prints. */
export interface RunningGuestReport {
  /** Nested virtualization is available in the guest: its vCPU has vmx or svm. */
  readonly ok: boolean;
  readonly checks: readonly Check[];
  readonly guest: string;
  readonly uri: string;
  /** What QEMU says of the vCPU (or the definition predicts, see `source`); null when unknown. */
  readonly vmx: boolean | null;
  readonly svm: boolean | null;
  /** 'qmp': QEMU's own answer; 'definition': the driver has no QMP, so the live XML was read instead. */
  readonly source: 'qmp' | 'definition';
  /** The persistent definition's CPU: what the guest gets at its next start. */
  readonly definition: { readonly mode: string | null; readonly check: string | null; readonly disabled: readonly string[] };
  /** The persistent definition would give a different answer than what runs: restart to apply. */
  readonly pendingRestart: boolean;
}

/** Options of {@link checkRunningGuest}. */
export interface CheckRunningGuestOptions {
  /** The open virsh session (the caller closes it). */
  readonly session: Pick<VirshSession, 'uri' | 'domstate' | 'dumpxml' | 'qemuMonitorCommand'>;
  /**
   * The root directory of the host that runs the guest, read for a `kvm` guest on a local URI: its KVM
   * module and `nested` parameter come first in the chain that gives a vCPU vmx/svm. Default `/`;
   * `null` never looks at the host. A remote URI's host is never read from here.
   */
  readonly hostRoot?: string | null;
}

const NESTED_MODES: readonly string[] = CPU_MODES;

/** The `<feature>`s that take vmx/svm away, as written (`<feature policy='disable' name='svm'/>`). */
const disablingFeatures = (domain: Domain): string[] =>
  disabledVirtualizationFeatures(domain.cpu).map((f) => `<feature policy='${f.policy}' name='${f.name}'/>`);

const disabledFeatures = (domain: Domain): string[] => disabledVirtualizationFeatures(domain.cpu).map((f) => f.name);

/**
 * Whether the persistent definition was changed, in what matters for nesting, since the guest started.
 * The live XML shows a host-model CPU expanded into `mode='custom' check='full'` with the host's model,
 * so a mode is compared by what libvirt would have made of it, and features by the vmx/svm they take away.
 */
function definitionChanged(persistent: Domain, live: Domain, hostFiltered: boolean): boolean {
  const disabledNow = [...disabledFeatures(persistent)].sort();
  const disabledLive = disabledFeatures(live).filter((name) => !hostFiltered || disabledNow.includes(name)).sort();
  if (disabledNow.join() !== disabledLive.join()) return true;
  const mode = persistent.cpu?.mode ?? 'custom';
  const liveMode = live.cpu?.mode ?? 'custom';
  if (mode === 'host-passthrough' || liveMode === 'host-passthrough') return mode !== liveMode;
  if (mode === 'host-model') return !(liveMode === 'host-model' || (liveMode === 'custom' && live.cpu?.check === 'full'));
  return liveMode === 'host-model';
}

/** Whether a definition gives its guest vmx/svm at start: a nested mode and no disabled feature. */
function predicts(domain: Domain): boolean {
  return NESTED_MODES.includes(domain.cpu?.mode ?? 'custom') && disabledFeatures(domain).length === 0;
}

interface QmpReply { return?: unknown; error?: { desc?: string } }

async function qmp(session: CheckRunningGuestOptions['session'], guest: string, command: Record<string, unknown>): Promise<QmpReply> {
  return JSON.parse(await session.qemuMonitorCommand(guest, command)) as QmpReply;
}

/** vmx and svm of every vCPU, from QEMU; a property QEMU does not know counts as absent. */
async function vcpuFlags(session: CheckRunningGuestOptions['session'], guest: string): Promise<{ vmx: boolean; svm: boolean }> {
  const cpus = (await qmp(session, guest, { execute: 'query-cpus-fast' })).return as Array<{ 'qom-path'?: string }> | undefined;
  const paths = (cpus ?? []).map((c) => c['qom-path']).filter((p): p is string => typeof p === 'string');
  if (paths.length === 0) throw new VirtNestedError('VIRSH_FAILED', `QEMU listed no vCPU for guest "${guest}"`);
  const flag = async (property: string) => {
    for (const path of paths) {
      const reply = await qmp(session, guest, { execute: 'qom-get', arguments: { path, property } });
      if (reply.return !== true) return false;
    }
    return true;
  };
  return { vmx: await flag('vmx'), svm: await flag('svm') };
}

/** A URI whose libvirt runs on this machine: no host part (`qemu:///system`, `qemu+unix:///system?socket=…`). */
const isLocalUri = (uri: string) => /^[a-z0-9]+(\+unix)?:\/\/\//i.test(uri);

const KVM_MODULES: readonly KvmModule[] = ['kvm_amd', 'kvm_intel'];

/**
 * The host's link of the chain, for a kvm guest: a KVM module loaded with `nested` on. KVM hides vmx/svm
 * from every guest while `nested` is off, whatever the guest's definition says.
 */
async function hostNestedCheck(root: string, guest: string): Promise<Check> {
  const fix = `on the host, run virt-nested enable-host --reload (it needs the host's KVM guests shut down), then start guest "${guest}" again`;
  for (const module of KVM_MODULES) {
    const state = await readKvmModuleState(root, module);
    if (!state.loaded) continue;
    if (state.nestedEnabled) return { id: 'host-nested', status: 'ok', message: `the host's ${module} nested parameter reads ${state.nested ?? ''}` };
    return {
      id: 'host-nested', status: 'problem',
      message: `the host's ${module} nested parameter ${state.nested === undefined ? 'does not exist' : `reads ${state.nested}`}, so KVM gives no guest ${module === 'kvm_amd' ? 'svm' : 'vmx'}`,
      fix,
    };
  }
  return { id: 'host-nested', status: 'problem', message: 'neither kvm_amd nor kvm_intel is loaded on the host', fix };
}

const qmpUnavailable = (error: unknown) => error instanceof VirshError && /not supported by the connection driver/.test(error.stderr + error.message);

/**
 * Checks whether a running guest's vCPU has vmx/svm, as QEMU reports them (QMP `query-cpus-fast`,
 * then `qom-get` of `vmx` and `svm` on each vCPU), and explains a negative from the live and
 * persistent definitions. A guest that is not running gives `ok: false` and what its definition
 * predicts. Throws `GUEST_NOT_FOUND` for a missing guest.
 *
 * @example
 * const report = await withVirsh({ uri: 'qemu:///system' }, (session) => checkRunningGuest('web-1', { session }));
 * report.ok // true when the guest can run nested guests
 */
export async function checkRunningGuest(guest: string, options: CheckRunningGuestOptions): Promise<RunningGuestReport> {
  const { session } = options;
  const who = `guest "${guest}"`;
  const state = await session.domstate(guest);
  const persistent = parseDomain(await session.dumpxml(guest, { inactive: true }), { file: `the definition of ${who}` });
  const definition = { mode: persistent.cpu?.mode ?? null, check: persistent.cpu?.check ?? null, disabled: disabledFeatures(persistent) };
  const fix = `${setCpuHint(guest, session.uri)}, then restart the guest`;
  const restart = `${virshHint(session.uri, 'shutdown', { guest })}, then start it again`;
  const checks: Check[] = [];

  // QEMU answers for a paused guest too; only a guest without a QEMU process cannot be asked
  if (state !== 'running' && state !== 'paused') {
    const prediction = predicts(persistent) ? 'its definition gives it vmx/svm' : 'its definition would not give it vmx/svm';
    checks.push({ id: 'running', status: 'problem', message: `${who} is not running (${state}); start it to check what its vCPU gets (${prediction})`, fix: virshHint(session.uri, state === 'pmsuspended' ? 'dompmwakeup' : 'start', { guest }) });
    return { ok: false, checks, guest, uri: session.uri, vmx: null, svm: null, source: 'definition', definition, pendingRestart: false };
  }
  checks.push({ id: 'running', status: 'ok', message: `${who} is ${state}` });
  const hostRoot = options.hostRoot === undefined ? '/' : options.hostRoot;
  const host = hostRoot !== null && persistent.type === 'kvm' && isLocalUri(session.uri) ? await hostNestedCheck(hostRoot, guest) : undefined;
  if (host) checks.push(host);

  const live = parseDomain(await session.dumpxml(guest), { file: `the live definition of ${who}` });
  let source: 'qmp' | 'definition' = 'qmp';
  let vmx: boolean | null;
  let svm: boolean | null;
  try {
    ({ vmx, svm } = await vcpuFlags(session, guest));
  } catch (error) {
    if (!qmpUnavailable(error)) throw error;
    source = 'definition';
    vmx = null;
    svm = null;
  }
  const has = source === 'qmp' ? Boolean(vmx || svm) : predicts(live);
  const flags = [vmx ? 'vmx' : '', svm ? 'svm' : ''].filter(Boolean).join(' and ');
  if (source === 'qmp') {
    checks.push(has
      ? { id: 'vcpu-flag', status: 'ok', message: `QEMU reports ${flags} on the vCPU of ${who}` }
      : host?.status === 'problem'
        // the first broken link is the host's: a new CPU mode or a restart would change nothing
        ? { id: 'vcpu-flag', status: 'problem', message: `QEMU reports neither vmx nor svm on the vCPU of ${who}, because ${host.message}`, fix: host.fix! }
        : { id: 'vcpu-flag', status: 'problem', message: `QEMU reports neither vmx nor svm on the vCPU of ${who}, so it cannot run nested guests`, fix });
  } else {
    checks.push({
      id: 'vcpu-flag', status: has ? 'ok' : 'problem',
      message: `libvirt at ${session.uri} has no QEMU monitor, so this answer is the live definition's, not QEMU's: it ${has ? 'gives' : 'does not give'} ${who} vmx/svm`,
      ...(has ? {} : { fix }),
    });
  }

  // With the host's nested off, QEMU filters svm/vmx out and libvirt writes that into the live CPU as
  // <feature policy='disable'>: the host's doing, not a feature anyone wrote, and no sign of an edit.
  const hostFiltered = host?.status === 'problem';
  const disabling = [...new Set([...(hostFiltered ? [] : disablingFeatures(live)), ...disablingFeatures(persistent)])];
  checks.push(disabling.length
    ? { id: 'nested-feature-disabled', status: 'problem', message: `${who} has ${disabling.join(' and ')}, which hides it from the guest`, fix: 'remove that <feature> (virsh edit), then restart the guest' }
    : { id: 'nested-feature-disabled', status: 'ok', message: 'no <feature> disables vmx or svm' });

  const modeOk = NESTED_MODES.includes(definition.mode ?? 'custom');
  if (modeOk) checks.push({ id: 'cpu-mode', status: 'ok', message: `the definition has cpu mode='${definition.mode}'` });
  else if (has) {
    // e.g. QEMU's default model under TCG includes svm: it works here, but does not follow the host
    checks.push({ id: 'cpu-mode', status: 'not-applicable', message: `the definition has cpu mode='${definition.mode ?? 'custom'}'; its model happens to include vmx/svm, but only host-model or host-passthrough give the guest the host's own` });
  } else checks.push({ id: 'cpu-mode', status: 'problem', message: `the definition has cpu mode='${definition.mode ?? 'custom'}', which does not pass the host's vmx/svm through`, fix });

  if (persistent.type === 'kvm') checks.push({ id: 'accelerator', status: 'ok', message: `${who} runs on KVM` });
  else {
    checks.push({
      id: 'accelerator', status: 'not-applicable',
      message: `${who} has domain type '${persistent.type ?? '?'}' (${persistent.type === 'qemu' ? 'TCG, emulated' : 'not KVM'}): its vCPU flags are emulated, and nested guests in it would run slowly; also check the host with virt-nested check-host`,
    });
  }

  const pendingRestart = definitionChanged(persistent, live, hostFiltered);
  checks.push(pendingRestart
    ? { id: 'pending-restart', status: 'problem', message: `the definition of ${who} was changed since it started and would ${predicts(persistent) ? '' : 'not '}give it vmx/svm; restart it to apply`, fix: restart }
    : { id: 'pending-restart', status: 'ok', message: 'what runs matches the definition' });

  return { ok: has, checks, guest, uri: session.uri, vmx, svm, source, definition, pendingRestart };
}
