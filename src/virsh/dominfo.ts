/**
 * `virsh dominfo`, parsed: the one place that reads its `Name: value` lines. `domstate` does not show a
 * managed save image, nor the id libvirt gives a guest early in a start; `dominfo` shows both.
 */
import type { DomainState } from './domain-commands.js';
import type { VirshRunner, VirshRunOptions } from './runner.js';

/**
 * What `virsh dominfo` says of a guest (the fields virt-nested uses).
 *
 * @example
 * const info: DomainInfo = { state: 'shut off', id: undefined, persistent: true, managedSave: false };
 */
export interface DomainInfo {
  /** As `domstate` prints it; `'unknown'` when virsh printed no `State:` line. */
  readonly state: DomainState;
  /** The id of a running (or starting) guest; undefined when virsh prints `-`. */
  readonly id: number | undefined;
  readonly persistent: boolean;
  /** The guest has a managed save image: its next start resumes that memory. */
  readonly managedSave: boolean;
}

/**
 * Parses what `virsh dominfo` printed. Field names are libvirt's English ones (virsh runs under `LC_ALL=C.UTF-8`).
 *
 * @example
 * parseDominfo('Id:             -\nName:           web-1\nState:          shut off\nPersistent:     yes\nManaged save:   no\n')
 * // → { state: 'shut off', id: undefined, persistent: true, managedSave: false }
 */
export function parseDominfo(stdout: string): DomainInfo {
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(stdout)?.[1]?.trim();
  const id = field('Id');
  return {
    state: (field('State') ?? 'unknown') as DomainState,
    id: id === undefined || !/^\d+$/.test(id) ? undefined : Number(id),
    persistent: field('Persistent') === 'yes',
    managedSave: field('Managed save') === 'yes',
  };
}

/**
 * `virsh dominfo --domain GUEST`, parsed.
 *
 * @example
 * const { state, managedSave } = await dominfo(session, 'web-1');
 */
export async function dominfo(runner: Pick<VirshRunner, 'run'>, guest: string, options: VirshRunOptions = {}): Promise<DomainInfo> {
  const { stdout } = await runner.run(['dominfo', '--domain', guest], options);
  return parseDominfo(stdout);
}

/**
 * `virsh domid --domain GUEST`: the id libvirt gives a running (or starting) guest, undefined for an
 * inactive one (`-`). One call to libvirt, where `dominfo` makes about ten: enough after a define, when
 * only "has it started meanwhile?" is asked.
 *
 * @example
 * await domainId(session, 'web-1') // 7, or undefined when it is shut off
 */
export async function domainId(runner: Pick<VirshRunner, 'run'>, guest: string, options: VirshRunOptions = {}): Promise<number | undefined> {
  const id = (await runner.run(['domid', '--domain', guest], options)).stdout.trim();
  return /^\d+$/.test(id) ? Number(id) : undefined;
}
