import { VirtNestedError } from '../errors.js';
import type { CpuMode, DomainCpu } from '../domain/types.js';
import { applyCpuModeToHosts, fleetExitCode, type FleetReport, type GuestResult } from '../apply/fleet.js';
import { virshHint } from '../virsh/hint.js';
import type { CliIo } from './io.js';
import { hostUris, jobsOption } from './hosts.js';

const describeCpu = (cpu: DomainCpu | null) =>
  cpu === null ? 'no <cpu>' : `mode='${cpu.mode ?? 'custom'}'${cpu.check ? ` check='${cpu.check}'` : ''}`;

/** One or two lines per guest, as a person reads them. */
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
  else if (r.dryRun) out += `${who}: would set mode='${r.mode}' check='partial' (now ${describeCpu(r.before)}); dry run, nothing changed\n`;
  else {
    out += `${who}: <cpu> set to ${describeCpu(r.after)} (was ${describeCpu(r.before)})${r.restarted ? '; started again' : ''}\n`;
    out += `  backup of the old definition: ${r.backup}\n`;
  }
  for (const w of r.warnings) err += `warning: ${prefix}${w}\n`;
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
 * `virt-nested set-cpu GUEST… --mode M [-c URI]… [--all | --match GLOB] [--dry-run] [--shutdown] [--json]`.
 * `VIRT_NESTED_SHUTDOWN_TIMEOUT` (seconds) bounds how long `--shutdown` waits for each guest.
 */
export async function runGuests(guests: string[], mode: CpuMode, options: Record<string, unknown>, io: CliIo): Promise<number> {
  const uris = await hostUris(options);
  const jobs = jobsOption(options);
  const shutdownTimeout = shutdownTimeoutMs(io.env);
  const single = guests.length === 1 && !options['all'] && options['match'] === undefined && uris.length === 1;
  const json = Boolean(options['json']);
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
  const progress = Boolean(io.stderrIsTTY) && !json && !single;
  try {
    const report = await applyCpuModeToHosts({
      mode,
      uris,
      guests,
      all: Boolean(options['all']),
      ...(options['match'] !== undefined ? { match: options['match'] as string } : {}),
      dryRun: Boolean(options['dryRun']),
      shutdown: Boolean(options['shutdown']),
      ...(shutdownTimeout === undefined ? {} : { shutdownTimeoutMs: shutdownTimeout }),
      ...(jobs ? { jobs } : {}),
      signal: abort.signal,
      env: io.env,
      onResult: (r) => {
        done++;
        if (json && !single) io.stdout(`${JSON.stringify(r)}\n`);
        else if (!json) {
          const { out, err } = describeResult(r, multiHost ? `${r.uri}: ` : '');
          if (progress) io.stderr('\r\x1b[K');
          io.stdout(out);
          io.stderr(err);
          if (progress) io.stderr(`[${done}] working…`);
        }
      },
    });
    if (progress) io.stderr('\r\x1b[K');
    for (const host of report.summary.unreachable) io.stderr(`virt-nested: ${host.message}\n`);
    if (json) {
      if (single && report.results[0]) io.stdout(`${JSON.stringify(report.results[0], null, 2)}\n`);
      else io.stdout(`${JSON.stringify({ summary: report.summary })}\n`);
    } else if (!single) io.stdout(summaryLine(report));
    return fleetExitCode(report);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
