/**
 * Which failures of `virsh define` are libvirt's refusal (`DEFINE_FAILED`, exit 1) and which are not: a
 * timeout, a lost connection or a closed session says nothing about the definition, keeps its own code
 * (exit 2), and libvirt may still have taken the definition.
 */
import { errorCodeOf, VirshError, VirtNestedError } from '../errors.js';
import { defineRefusalReasons } from '../virsh/domain-commands.js';

/**
 * Whether libvirt itself refused a define (the virsh adapter's `DEFINE_FAILED`), rather than the
 * command not finishing.
 *
 * @example
 * catch (error) { if (!refusedByLibvirt(error)) throw unfinishedDefine(error, 'guest "web-1"', backup); }
 */
export function refusedByLibvirt(error: unknown): error is VirshError {
  return error instanceof VirshError && error.code === 'DEFINE_FAILED';
}

/**
 * The error for a define that did not finish: the code it failed with (`VIRSH_TIMEOUT`,
 * `LIBVIRT_UNREACHABLE`, …), its cause, and where the definition before it is kept.
 *
 * @example
 * throw unfinishedDefine(error, 'guest "web-1"', '/var/lib/virt-nested/backups/web-1.xml');
 */
export function unfinishedDefine(error: unknown, who: string, backup: string): VirtNestedError {
  const message = error instanceof Error ? error.message : String(error);
  return new VirtNestedError(errorCodeOf(error),
    `the define of ${who} did not finish (${message}); libvirt may or may not have taken the new definition: compare it with the definition before, in ${backup}`,
    { cause: error });
}

/**
 * libvirt's own reason, without virsh's "Failed to define domain from …" (our staged file, gone by now).
 *
 * @example
 * libvirtMessage(error) // "XML error: Invalid value for attribute 'unit' …"
 */
export function libvirtMessage(error: unknown): string {
  const reasons = error instanceof VirshError ? defineRefusalReasons(error.stderr) : [];
  return reasons.length > 0 ? reasons.join('; ') : error instanceof Error ? error.message : String(error);
}
