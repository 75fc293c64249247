/**
 * The libvirt the host layer asks by default. Asking it which CPU modes it offers KVM guests
 * (`virsh domcapabilities --virttype kvm`) is virsh's job: `virsh/host-commands.ts`, re-exported here
 * for the names the host layer has always had.
 */
export { lastMessage, parseCpuModes, readLibvirtCpuModes, type LibvirtCpuModes } from '../virsh/host-commands.js';

/**
 * The URI asked when the caller names none: the local system libvirtd, which runs KVM guests.
 *
 * @example
 * await readLibvirtCpuModes(runCommand, DEFAULT_HOST_URI);
 */
export const DEFAULT_HOST_URI = 'qemu:///system';
