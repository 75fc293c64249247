import { VirtNestedError } from '../errors.js';
import { disabledVirtualizationFeatures } from '../cpu/warnings.js';
import type { NestedPolicy } from '../cpu/nested.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { connectHosts, fleetConnections } from '../apply/connect-hosts.js';
import type { FleetOptions, FleetReport, GuestResult } from '../apply/fleet.js';
import { fleetExitCode } from './exit-codes.js';
import { virshHint } from '../virsh/hint.js';
import type { CliIo } from './io.js';
import { hostUris, jobsOption } from './hosts.js';
import { printJsonError, SCHEMA_VERSION } from './json-output.js';

function describeCpu(cpu: DomainCpu | null): string {
  if (cpu === null) return 'no <cpu>';
  const disabled = disabledVirtualizationFeatures(cpu).map((f) => f.name);
  return `mode='${cpu.mode ?? 'custom'}'${cpu.check ? ` check='${cpu.check}'` : ''}${disabled.length ? ` with ${disabled.join(' and ')} disabled` : ''}`;
}

/** One or two lines per guest (and its diff), as a person reads them. */
function describeResult(r: GuestResult, prefix: string): { out: string; err: string } {
  const who = `${prefix}guest "${r.guest}"`;
  let out = '';
  let err = '';
  if (r.error) err += `virt-nested: ${prefix}${r.error.message}\n`;
  else if (r.skipped) {
    const hint = virshHint(r.uri, 'shutdown', { guest: r.guest });
    err += `virt-nested: ${who} is ${r.skipped}; not changed: shut it off first (${hint}), or use --shutdown\n`;
  }
  else if (!r.changed) out += `${who}: already ${describeCpu(r.after)}; nothing to do\n`;
  else if (r.dryRun && r.shutdown) out += `${who}: would shut it down, set <cpu> to ${describeCpu(r.after)} (now ${describeCpu(r.before)}), and start it again; dry run, nothing changed\n`;
  else if (r.dryRun) out += `${who}: would set <cpu> to ${describeCpu(r.after)} (now ${describeCpu(r.before)}); dry run, nothing changed\n`;
  else {
    out += `${who}: <cpu> set to ${describeCpu(r.after)} (was ${describeCpu(r.before)})${r.restarted ? '; shut down and started again' : ''}\n`;
    out += `  backup of the old definition: ${r.backup}\n`;
  }
  if (r.diff) out += r.diff;
  for (const w of r.warnings) err += `warning: ${prefix}${w.message}\n`;
  return { out, err };
}

function summaryLine(report: FleetReport): string {
  const s = report.summary;
  const parts = [`${s.changed} changed`, `${s.unchanged} unchanged`, `${s.skipped} skipped`, `${s.failed} failed`];
  const hosts = s.unreachable.length ? `; ${s.unreachable.length} of ${s.hosts} host${s.hosts === 1 ? '' : 's'} unreachable` : '';
  return `${s.guests} guest${s.guests === 1 ? '' : 's'} on ${s.hosts} host${s.hosts === 1 ? '' : 's'}: ${parts.join(', ')}${hosts}${s.aborted ? '; interrupted' : ''}\n`;
}

/**
 * How long `--shutdown` waits for a guest to power off: `VIRT_NESTED_SHUTDOWN_TIMEOUT` seconds, else the
 * library's default (120 s).
 *
 * @example
 * shutdownTimeoutMs({ VIRT_NESTED_SHUTDOWN_TIMEOUT: '30' }) // 30000
 */
export function shutdownTimeoutMs(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env['VIRT_NESTED_SHUTDOWN_TIMEOUT'];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0) {
    throw new VirtNestedError('USAGE', `VIRT_NESTED_SHUTDOWN_TIMEOUT must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  }
  return Number(raw) * 1000;
}

/**
 * `virt-nested set-cpu GUEST… [--mode M] [--nested on|off] [-c URI]… [--all | --match GLOB] [--dry-run]
 * [--diff] [--shutdown] [--json | --json-lines]`. `VIRT_NESTED_SHUTDOWN_TIMEOUT` (seconds) bounds how
 * long `--shutdown` waits for each guest. One guest with `--json` prints its result (with
 * `schemaVersion`); several print one `{ schemaVersion, results, summary }` document.
 */
export async function runGuests(guests: string[], mode: CpuMode | undefined, options: Record<string, unknown>, io: CliIo): Promise<number> {
  try {
    return await setCpuOfGuests(guests, mode, options, io);
  } catch (error) {
    if (options['json'] || options['jsonLines']) printJsonError(error, io);
    throw error;
  }
}

async function setCpuOfGuests(guests: string[], mode: CpuMode | undefined, options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uris = await hostUris(options);
  const jobs = jobsOption(options);
  const shutdownTimeout = shutdownTimeoutMs(io.env);
  const single = guests.length === 1 && !options['all'] && options['match'] === undefined && uris.length === 1;
  const json = Boolean(options['json']);
  const jsonLines = Boolean(options['jsonLines']);
  const debug = Boolean(options['debug']);
  const multiHost = uris.length > 1;
  const abort = new AbortController();
  // `on`, not `once`: execa's signal-exit handler re-raises SIGINT (killing us mid-guest) as soon as it
  // is the only listener left. A second Ctrl-C quits at once.
  const onSigint = () => {
    if (abort.signal.aborted) {
      io.stderr('virt-nested: interrupted again; quitting without finishing the guest being edited\n');
      process.exit(130);
    }
    io.stderr('virt-nested: interrupted; finishing the guest being edited, then stopping\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let done = 0;
  const progress = Boolean(io.stderrIsTTY) && !json && !jsonLines && !single;
  try {
    const fleet: FleetOptions = {
      ...(mode === undefined ? {} : { mode }),
      ...(options['nested'] === undefined ? {} : { nested: options['nested'] as NestedPolicy }),
      uris,
      guests,
      all: Boolean(options['all']),
      ...(options['match'] !== undefined ? { match: options['match'] as string } : {}),
      dryRun: Boolean(options['dryRun']),
      diff: Boolean(options['diff']),
      shutdown: Boolean(options['shutdown']),
      ...(shutdownTimeout === undefined ? {} : { shutdownTimeoutMs: shutdownTimeout }),
      ...(jobs ? { jobs } : {}),
      signal: abort.signal,
      env: io.env,
      ...(debug ? { onError: (error: unknown) => { if (error instanceof Error && error.stack) io.stderr(`${error.stack}\n`); } } : {}),
      onResult: (r) => {
        done++;
        if (jsonLines) io.stdout(`${JSON.stringify(r)}\n`);
        else if (!json) {
          const { out, err } = describeResult(r, multiHost ? `${r.uri}: ` : '');
          if (progress) io.stderr('\r\x1b[K');
          io.stdout(out);
          io.stderr(err);
          if (progress) io.stderr(`[${done}] working…`);
        }
      },
    };
    // virsh connects to the first hosts while Node loads the workflow (which checks the selection and,
    // for one that means nothing, closes these connections again); the first host's virsh may have
    // been started by the executable already
    const connector = connectHosts(uris, fleetConnections({ ...fleet, ...(io.earlyVirsh ? { adopt: io.earlyVirsh } : {}) }));
    const { applyCpuModeToHostsWith } = await import('../apply/fleet.js');
    const report = await applyCpuModeToHostsWith(fleet, connector);
    if (progress) io.stderr('\r\x1b[K');
    for (const host of report.summary.unreachable) io.stderr(`virt-nested: ${host.message}\n`);
    if (jsonLines) io.stdout(`${JSON.stringify({ summary: report.summary })}\n`);
    else if (json && single && report.summary.unreachable[0] && report.results.length === 0) printJsonError(report.summary.unreachable[0], io);
    else if (json && single && report.results.length === 1) io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...report.results[0] }, null, 2)}\n`);
    else if (json) io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, results: report.results, summary: report.summary }, null, 2)}\n`);
    else if (!single) io.stdout(summaryLine(report));
    return fleetExitCode(report);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
