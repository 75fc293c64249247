/**
 * Where virsh keeps its readline history while virt-nested drives it.
 */

import { makeHistoryDir } from './history-dir.js';

/**
 * On `quit`, virsh saves its readline history (500 lines) under `$XDG_CACHE_HOME/libvirt/virsh`: our
 * commands and markers would push out the admin's own. Point it at a private directory (see
 * `history-dir.ts`: removed when virsh exits, and by the next run when this one was killed), except for
 * local session URIs, where virsh may start a session daemon that would inherit the variable.
 *
 * @example
 * const history = privateHistory('qemu:///system'); // → '/tmp/virt-nested-virsh-0/4242-a1B2c3'
 */
export function privateHistory(uri: string | undefined): string | undefined {
  if (uri === undefined || /^[\w+]+:\/\/\/session/.test(uri)) return undefined;
  return makeHistoryDir();
}
