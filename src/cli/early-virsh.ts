/**
 * The virsh of a `set-cpu` run, started by the executable (`bin.ts`) before it loads the CLI: virsh
 * connects to libvirt (tens of milliseconds, more over ssh) while Node compiles the workflow, instead of
 * after. Only a plain command line qualifies (one host at most, no `--file`, `--hosts-file`, `--help`);
 * anything else, or a command that ends before it connects (a usage error), leaves it to be quit. The
 * session that connects to the same URI adopts it; nothing else ever does.
 */
import { CPU_MODES } from '../cpu/modes.js';
import { NESTED_CHOICES } from '../cpu/nested.js';
import { startVirsh, type StartedVirsh } from '../virsh/start-virsh.js';
import { CLOSE_GRACE_MS } from '../virsh/virsh-process.js';

/** set-cpu's options that take a value (other than the URI), and those that take none. */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(['--mode', '--nested', '--match', '--jobs']);
/** The values `--mode` and `--nested` accept: any other is a usage error, which connects nowhere. */
const CHOICES: Readonly<Record<string, readonly string[]>> = { '--mode': CPU_MODES, '--nested': NESTED_CHOICES };
const FLAG_OPTIONS: ReadonlySet<string> = new Set(['--all', '--shutdown', '--dry-run', '--json', '--json-lines', '--diff', '--debug']);
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * The host of a plain `set-cpu` command line (`{ uri: undefined }`: virsh's default), or undefined for
 * any other command line: another command, `--file`, `--hosts-file`, several `-c`, `--help`, `--`, an
 * option it does not know, a `--mode` or `--nested` value set-cpu refuses. Being undefined only costs
 * the head start.
 *
 * @example
 * earlyVirshUri(['set-cpu', 'web-1', '-c', 'qemu:///system']) // { uri: 'qemu:///system' }
 * earlyVirshUri(['set-cpu', '--file', 'guest.xml'])           // undefined
 */
export function earlyVirshUri(argv: readonly string[]): { uri: string | undefined } | undefined {
  if (argv[0] !== 'set-cpu') return undefined;
  const uris: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-c' || arg === '--connect') {
      const value = argv[++i];
      if (value === undefined) return undefined;
      uris.push(value);
    } else if (arg.startsWith('--connect=')) uris.push(arg.slice('--connect='.length));
    else if (VALUE_OPTIONS.has(arg)) {
      const value = argv[++i];
      if (CHOICES[arg] && !CHOICES[arg].includes(value as string)) return undefined;
    } else if (/^--(mode|nested)=/.test(arg)) {
      const [name, value] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)];
      if (!(CHOICES[name] as readonly string[]).includes(value)) return undefined;
    } else if (FLAG_OPTIONS.has(arg) || /^--(match|jobs)=/.test(arg)) continue;
    else if (arg.startsWith('-')) return undefined;
  }
  if (uris.length > 1) return undefined;
  const uri = uris[0];
  if (uri !== undefined && (uri === '' || uri.startsWith('-') || CONTROL_CHARACTER.test(uri))) return undefined;
  return { uri };
}

/** A virsh started early: adopted once by the session for its URI, or quit at the end of the run. */
export interface EarlyVirsh {
  /** The started virsh when it was started for `uri` and nobody took it yet. */
  take(uri: string | undefined): StartedVirsh | undefined;
  /** Quits it unless it was taken (then its session closes it), and waits until it has exited. */
  dispose(): Promise<void>;
}

/**
 * Starts the virsh of a plain `set-cpu` command line (see {@link earlyVirshUri}); undefined for any other.
 *
 * @example
 * const early = startEarlyVirsh(process.argv.slice(2));
 */
export function startEarlyVirsh(argv: readonly string[], start: typeof startVirsh = startVirsh): EarlyVirsh | undefined {
  const host = earlyVirshUri(argv);
  if (host === undefined) return undefined;
  const started = start({ uri: host.uri });
  let taken = false;
  return {
    take(uri) {
      if (taken || uri !== started.uri) return undefined;
      taken = true;
      return started;
    },
    async dispose() {
      if (taken) return;
      taken = true;
      const virsh = started.process;
      virsh.stdin.on('error', () => undefined);
      virsh.stdin.end('quit\n');
      const force = setTimeout(() => virsh.kill('SIGKILL'), CLOSE_GRACE_MS);
      await virsh.exited;
      clearTimeout(force);
    },
  };
}
