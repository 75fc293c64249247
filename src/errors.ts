/**
 * Typed errors. Every error virt-nested throws is a {@link VirtNestedError} with a stable `code`;
 * subclasses exist only where callers branch on them. Messages are one sentence naming the file or
 * guest and what to do.
 */

/** Stable error codes; callers and the CLI branch on these, never on message text. */
export type ErrorCode =
  | 'XML_MALFORMED'
  | 'XML_DOCTYPE'
  | 'XML_TOO_LARGE'
  | 'XML_NOT_DOMAIN'
  | 'USAGE'
  | 'FILE_UNREADABLE'
  | 'FILE_UNWRITABLE'
  | 'FILE_CHANGED'
  | 'LIBVIRT_MISSING'
  | 'LIBVIRT_UNREACHABLE'
  | 'VIRSH_FAILED'
  | 'VIRSH_TIMEOUT'
  | 'GUEST_NOT_FOUND'
  | 'GUEST_NOT_SHUT_OFF'
  | 'GUEST_NOT_RUNNING'
  | 'GUEST_CHANGED'
  | 'BACKUP_NOT_FOUND'
  | 'MODE_UNSUPPORTED'
  | 'DEFINE_FAILED'
  | 'VERIFY_FAILED'
  | 'NOT_PERMITTED'
  | 'HOST_UNSUPPORTED'
  | 'GUESTS_RUNNING'
  | 'KERNEL_VULNERABLE'
  | 'ABORTED'
  | 'INTERNAL';

/**
 * The base of every error virt-nested throws.
 *
 * @example
 * try { parseDomain(text); } catch (e) { if (e instanceof VirtNestedError) console.error(e.code, e.message); }
 */
export class VirtNestedError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VirtNestedError';
    this.code = code;
  }
}

/**
 * Domain XML that cannot be used: malformed, a DOCTYPE/entity declaration, too large, or not a `<domain>`.
 * `line` and `column` are 1-based and point at the offending byte.
 *
 * @example
 * try { parseDomain('<domain><name>x</name'); } catch (e) { if (e instanceof DomainXmlError) console.log(e.line, e.column); }
 */
export class DomainXmlError extends VirtNestedError {
  readonly line: number;
  readonly column: number;
  /** The file the XML came from, when the caller said (see `parseDomain`'s `file` option). */
  readonly file: string | undefined;
  constructor(code: ErrorCode, message: string, line: number, column: number, file?: string) {
    super(code, message);
    this.name = 'DomainXmlError';
    this.line = line;
    this.column = column;
    this.file = file;
  }
}

/**
 * A virsh command that failed: carries the command (argv, never a shell string), its exit code and
 * libvirt's own message. `sessionEnded` is true when virsh itself went away (exited, was killed, or the
 * session ended before the command's answer): the command's outcome is then unknown, and the error is
 * never libvirt's answer to it.
 *
 * @example
 * catch (e) { if (e instanceof VirshError) console.error(e.command.join(' '), e.stderr); }
 */
export class VirshError extends VirtNestedError {
  readonly command: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  readonly sessionEnded: boolean;
  constructor(code: ErrorCode, message: string, details: { command: readonly string[]; exitCode?: number; stderr: string; cause?: unknown; sessionEnded?: boolean }) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'VirshError';
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
    this.sessionEnded = details.sessionEnded ?? false;
  }
}

/**
 * Why a guest counts as not shut off: it is `'running'` (or paused, or starting: any state but shut off),
 * it has a `'managed-save'` image its next start would resume, or it did not power off within the
 * `'shutdown-timeout'` it was given. Only `'running'` is a guest a fleet run skips; the others fail it.
 *
 * @example
 * const reason: NotShutOffReason = 'managed-save';
 */
export type NotShutOffReason = 'running' | 'managed-save' | 'shutdown-timeout';

/**
 * A guest that must be shut off for the change (libvirt applies `<cpu>` at the next start only, and a
 * live definition would be expanded by QEMU). `state` is what libvirt said last; `reason` says which
 * of the three refusals this is (see {@link NotShutOffReason}).
 *
 * @example
 * catch (e) { if (e instanceof GuestNotShutOffError && e.reason === 'running') console.log(`${e.guest} is ${e.state}`); }
 */
export class GuestNotShutOffError extends VirtNestedError {
  readonly guest: string;
  readonly state: string;
  readonly reason: NotShutOffReason;
  constructor(guest: string, state: string, message: string, options?: { reason?: NotShutOffReason; cause?: unknown }) {
    super('GUEST_NOT_SHUT_OFF', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GuestNotShutOffError';
    this.guest = guest;
    this.state = state;
    this.reason = options?.reason ?? 'running';
  }
}

/**
 * The refusal to reload the KVM module while something holds it; `guests` names those libvirt
 * listed at `uri` (empty when it listed none or could not be asked).
 *
 * @example
 * catch (e) { if (e instanceof GuestsRunningError) console.error(`shut down ${e.guests.join(', ')} first`); }
 */
export class GuestsRunningError extends VirtNestedError {
  readonly guests: readonly string[];
  readonly uri: string;
  constructor(guests: readonly string[], uri: string, message: string) {
    super('GUESTS_RUNNING', message);
    this.name = 'GuestsRunningError';
    this.guests = guests;
    this.uri = uri;
  }
}

/**
 * An error as a JSON result carries it (`{ "error": { "code", "message" } }`): the code stays an
 * {@link ErrorCode}, never a bare string, so the exit-code policy can be asked about it.
 *
 * @example
 * const failure: ErrorReport = { code: 'GUEST_NOT_FOUND', message: 'guest "web-9" was not found on qemu:///system' };
 */
export interface ErrorReport {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * The code of anything thrown: a {@link VirtNestedError}'s own, `'INTERNAL'` for anything else (a bug).
 *
 * @example
 * errorCodeOf(new Error('boom')) // 'INTERNAL'
 */
export function errorCodeOf(error: unknown): ErrorCode {
  return error instanceof VirtNestedError ? error.code : 'INTERNAL';
}
