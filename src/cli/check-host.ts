/**
 * `virt-nested check-host [--json] [--root DIR]`: the host report as a checklist, or as JSON. Exit 0
 * when nested virtualization is on (on a kernel not known to be vulnerable), 1 when it is not.
 * Also the output helpers the other host commands share.
 */
import { VirtNestedError } from '../errors.js';
import { exitCodeFor } from './exit-codes.js';
import { checkHost, runCommand, type Check } from '../host/index.js';
import type { CliIo } from './io.js';
import { reportError } from './report-error.js';

const MARKS = { ok: '✓', problem: '✗', 'not-applicable': '–' } as const;

/**
 * The checklist the host commands print: one line per item (`✓`, `✗` or `–` and the message), the
 * fix indented below it, then the verdict line.
 *
 * @example
 * formatChecklist([{ id: 'nested', status: 'problem', message: "kvm_intel's nested parameter reads N", fix: 'run: virt-nested enable-host --reload' }], 'verdict: nested virtualization is off');
 * // "✗ kvm_intel's nested parameter reads N\n  fix: run: virt-nested enable-host --reload\nverdict: nested virtualization is off\n"
 */
export function formatChecklist(checks: readonly Check[], verdict?: string): string {
  let text = '';
  for (const check of checks) {
    text += `${MARKS[check.status]} ${check.message}\n`;
    if (check.fix !== undefined) text += `  fix: ${check.fix}\n`;
  }
  return verdict === undefined ? text : `${text}${verdict}\n`;
}

/**
 * The directory standing for `/`: `--root DIR` (a mounted image or a chroot), else `/`.
 *
 * @example
 * hostRoot({ root: '/mnt/image' }); // '/mnt/image'
 */
export function hostRoot(options: Record<string, unknown>): string {
  const root = options['root'];
  return typeof root === 'string' && root !== '' ? root : '/';
}

/**
 * Prints one `--json` document of a host command: `"schemaVersion": 1` first, then the report.
 *
 * @example
 * printJson(io, report);
 */
export function printJson(io: CliIo, report: object): void {
  io.stdout(`${JSON.stringify({ schemaVersion: 1, ...report }, null, 2)}\n`);
}

/**
 * Runs a host command's body; with `--json`, an error still prints one JSON document (the refused
 * run's report when the error carries one, else `ok: false` with no checks) and its `error`, while the
 * sentence goes to stderr as always.
 *
 * @example
 * return withJsonErrors(options, io, async () => { ... });
 */
export async function withJsonErrors(options: Record<string, unknown>, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!options['json'] || !(error instanceof VirtNestedError)) throw error;
    const carried = (error as Partial<{ report: object }>).report;
    printJson(io, { ...(carried ?? { ok: false, checks: [] }), error: { code: error.code, message: error.message } });
    reportError(error, io, Boolean(options['debug']));
    return exitCodeFor(error);
  }
}

/**
 * The one libvirt URI a host command asks: `-c`, else `LIBVIRT_DEFAULT_URI`, else the library's
 * default. These commands look at the machine they run on, so a second `-c` is a usage error.
 *
 * @example
 * hostUri('check-host', { connect: ['qemu:///system'] }, {}); // 'qemu:///system'
 */
export function hostUri(command: string, options: Record<string, unknown>, env: NodeJS.ProcessEnv): string | undefined {
  const connect = Array.isArray(options['connect']) ? (options['connect'] as string[]) : [];
  if (connect.length > 1) throw new VirtNestedError('USAGE', `${command} takes one -c URI, because it looks at the machine it runs on`);
  return connect[0] ?? (env['LIBVIRT_DEFAULT_URI'] || undefined);
}

/**
 * Runs `check-host` and returns its exit code.
 *
 * @example
 * process.exitCode = await run([], { json: true }, processIo());
 */
export async function run(_args: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  return withJsonErrors(options, io, async () => {
    const uri = hostUri('check-host', options, io.env);
    const report = await checkHost({ root: hostRoot(options), run: runCommand, ...(uri === undefined ? {} : { uri }) });
    if (options['json']) printJson(io, report);
    else io.stdout(formatChecklist(report.checks, verdictOf(report)));
    return report.ok ? 0 : 1;
  });
}

function verdictOf(report: { ok: boolean; checks: readonly Check[] }): string {
  if (report.ok) return 'verdict: nested virtualization is on in this host';
  // On, but on a kernel with a known escape: the verdict must not read as "off".
  const exposed = report.checks.some((check) => check.id === 'kernel-advisory' && check.status === 'problem');
  return exposed ? 'verdict: nested virtualization is on in this host, on a kernel without the fixes of a known escape' : 'verdict: nested virtualization is off in this host';
}
