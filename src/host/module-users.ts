/**
 * Who holds the KVM module. Whether anything does is the kernel's answer (the module's use count):
 * it also counts QEMU processes libvirt does not know, such as those a stopped libvirtd left
 * running. libvirt's list is asked only to name them, and a libvirt that cannot be asked never
 * decides anything.
 */
import { GuestsRunningError } from '../errors.js';
import type { GuestNames } from '../virsh/host-commands.js';
import { virshHint } from '../virsh/hint.js';
import type { KvmModule } from './cpuinfo.js';

export { listRunningGuests, type GuestNames } from '../virsh/host-commands.js';

/**
 * The refusal for a module the kernel counts as in use, naming what libvirt lists.
 *
 * @example
 * throw inUseRefusal('kvm_amd', 1, await listRunningGuests(run, uri), uri, 'nothing was changed');
 */
export function inUseRefusal(module: KvmModule, useCount: number | undefined, named: GuestNames, uri: string, outcome: string, detail?: string): GuestsRunningError {
  const { guests } = named;
  const tail = `so ${module} was not reloaded${detail === undefined ? '' : ` (${detail})`} and ${outcome}`;
  if (guests.length > 0) {
    const names = guests.map((guest) => JSON.stringify(guest)).join(', ');
    const message = guests.length === 1
      ? `guest ${names} is running on ${uri}, ${tail}; shut it down first (${virshHint(uri, 'shutdown', { guest: guests[0] ?? '' })}) or run without --reload`
      : `guests ${names} are running on ${uri}, ${tail}; shut them down first or run without --reload`;
    return new GuestsRunningError(guests, uri, message);
  }
  const why = named.error === undefined
    ? `by ${useCount === 1 ? 'a process' : 'processes'} libvirt at ${uri} does not list (such as a QEMU left running by a stopped libvirtd)`
    : `and libvirt at ${uri} could not say which guests hold it (${named.error})`;
  const count = useCount === undefined ? '' : ` (use count ${useCount})`;
  return new GuestsRunningError(
    [],
    uri,
    `${module} is in use${count} ${why}, ${tail}; find what holds it with: fuser -v /dev/kvm, stop it, and run again, or run without --reload`,
  );
}
