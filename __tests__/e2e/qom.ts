/**
 * What QEMU itself says of a running guest's vCPU, asked by a test with plain virsh (QMP
 * `query-cpus-fast`, then `qom-get`): the reference virt-nested's answers are compared with.
 */
import { plainVirsh } from '../virsh/throwaway-guests.js';

/** `qom-get` of `property` (e.g. 'svm') on the first vCPU of a running guest. */
export async function qomGet(name: string, property: string): Promise<boolean> {
  const cpus = JSON.parse((await plainVirsh(['qemu-monitor-command', '--domain', name, '--cmd', '{"execute":"query-cpus-fast"}'])).stdout) as { return: Array<{ 'qom-path': string }> };
  const path = cpus.return[0]?.['qom-path'];
  const reply = await plainVirsh(['qemu-monitor-command', '--domain', name, '--cmd', JSON.stringify({ execute: 'qom-get', arguments: { path, property } })]);
  return (JSON.parse(reply.stdout) as { return: unknown }).return === true;
}
