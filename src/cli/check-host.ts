/**
 * `virt-nested check-host [--json]`: the host report as a checklist, or as JSON. Exit 0 when nested
 * virtualization is on, 1 when it is not.
 */
import { VirtNestedError } from '../errors.js';
import { checkHost, runCommand, type Check } from '../host/index.js';
import type { CliIo } from './io.js';

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
 * The directory standing for `/`: `/`, unless the (undocumented, for tests) `VIRT_NESTED_ROOT` says otherwise.
 *
 * @example
 * hostRoot({ VIRT_NESTED_ROOT: 'fixtures/hosts/intel-nested-on' }); // 'fixtures/hosts/intel-nested-on'
 */
export function hostRoot(env: NodeJS.ProcessEnv): string {
  return env['VIRT_NESTED_ROOT'] || '/';
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
  const uri = hostUri('check-host', options, io.env);
  const report = await checkHost({ root: hostRoot(io.env), run: runCommand, ...(uri === undefined ? {} : { uri }) });
  if (options['json']) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(formatChecklist(report.checks, `verdict: nested virtualization is ${report.ok ? 'on' : 'off'} in this host`));
  return report.ok ? 0 : 1;
}
