/**
 * Where virsh keeps its readline history while virt-nested drives it.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * On `quit`, virsh saves its readline history (500 lines) under `$XDG_CACHE_HOME/libvirt/virsh`: our
 * commands and markers would push out the admin's own. Point it at a fresh private directory (made
 * with mkdtemp, so nobody can plant a symlink there; removed when virsh exits), except for local
 * session URIs, where virsh may start a session daemon that would inherit the variable.
 *
 * @example
 * const history = privateHistory('qemu:///system'); // → '/tmp/virt-nested-virsh-Ab12Cd'
 */
export function privateHistory(uri: string | undefined): string | undefined {
  if (uri === undefined || /^[\w+]+:\/\/\/session/.test(uri)) return undefined;
  try {
    return mkdtempSync(join(tmpdir(), 'virt-nested-virsh-'));
  } catch {
    return undefined;
  }
}
