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
 * libvirt's own message.
 *
 * @example
 * catch (e) { if (e instanceof VirshError) console.error(e.command.join(' '), e.stderr); }
 */
export class VirshError extends VirtNestedError {
  readonly command: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(code: ErrorCode, message: string, details: { command: readonly string[]; exitCode?: number; stderr: string; cause?: unknown }) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'VirshError';
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
  }
}

/**
 * A guest that must be shut off for the change (libvirt applies `<cpu>` at the next start only, and a
 * live definition would be expanded by QEMU). `state` is what `virsh domstate` said.
 *
 * @example
 * catch (e) { if (e instanceof GuestNotShutOffError) console.log(`${e.guest} is ${e.state}`); }
 */
export class GuestNotShutOffError extends VirtNestedError {
  readonly guest: string;
  readonly state: string;
  constructor(guest: string, state: string, message: string) {
    super('GUEST_NOT_SHUT_OFF', message);
    this.name = 'GuestNotShutOffError';
    this.guest = guest;
    this.state = state;
  }
}

/**
 * Exit code of the CLI: success.
 *
 * @example
 * process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
 */
export const EXIT_OK = 0;
/**
 * Exit code of the CLI: a check failed or a change was refused.
 *
 * @example
 * process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
 */
export const EXIT_FAILED = 1;
/**
 * Exit code of the CLI: a usage or input error, or libvirt could not be reached.
 *
 * @example
 * process.exitCode = EXIT_USAGE;
 */
export const EXIT_USAGE = 2;

const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'GUEST_NOT_SHUT_OFF',
  'GUEST_NOT_RUNNING',
  'GUEST_CHANGED',
  'FILE_CHANGED',
  'MODE_UNSUPPORTED',
  'DEFINE_FAILED',
  'VERIFY_FAILED',
  'GUESTS_RUNNING',
  'KERNEL_VULNERABLE',
  'HOST_UNSUPPORTED',
]);

/**
 * The CLI's one mapping from an error to an exit code: refusals are 1, everything else
 * (usage, input, libvirt unreachable, guest missing) is 2.
 *
 * @example
 * process.exitCode = exitCodeFor(error);
 */
export function exitCodeFor(error: unknown): number {
  return error instanceof VirtNestedError ? exitCodeForCode(error.code) : EXIT_USAGE;
}

/**
 * The exit code for an error code, as reported in JSON results (`{ error: { code, message } }`).
 *
 * @example
 * exitCodeForCode('GUEST_NOT_SHUT_OFF') // 1
 */
export function exitCodeForCode(code: string): number {
  return REFUSALS.has(code as ErrorCode) ? EXIT_FAILED : EXIT_USAGE;
}
