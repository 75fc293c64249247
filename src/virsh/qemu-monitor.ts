/**
 * QEMU's monitor through virsh: one QMP command to a running guest's QEMU, for what libvirt does not
 * report itself (the vCPU's vmx/svm as QEMU runs it).
 */
import { guestArgs } from './command-args.js';
import type { VirshRunOptions, VirshRunner } from './runner.js';

/**
 * `virsh qemu-monitor-command --domain GUEST --cmd JSON`: sends one QMP command (a JSON string, or an
 * object that is stringified) and returns QEMU's reply as virsh prints it (JSON and a newline). A guest
 * that is not running throws `GUEST_NOT_RUNNING`.
 *
 * @example
 * const reply = await qemuMonitorCommand(session, 'web-1',
 *   { execute: 'qom-get', arguments: { path: '/machine/unattached/device[0]', property: 'svm' } });
 * JSON.parse(reply).return; // → true when the vCPU has svm
 */
export async function qemuMonitorCommand(
  runner: VirshRunner,
  guest: string,
  command: string | Readonly<Record<string, unknown>>,
  options: VirshRunOptions = {},
): Promise<string> {
  const json = typeof command === 'string' ? command : JSON.stringify(command);
  return (await runner.run([...guestArgs('qemu-monitor-command', guest), '--cmd', json], options)).stdout;
}
