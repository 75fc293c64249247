/**
 * Starting a virsh process, for a session (before its handshake) or a lifecycle watch: the command line,
 * the environment that keeps virsh's output exact, and the private history directory that goes away
 * with the process. A session starts its own (`openVirsh`), or adopts one started earlier: the executable starts the virsh
 * of a `set-cpu` run before it loads the CLI (`cli/early-virsh.ts`), so that virsh connects while Node
 * compiles. This module imports nothing but Node and the process helpers, for that reason.
 */
import { removeHistoryDir } from './history-dir.js';
import { privateHistory } from './history.js';
import { spawnVirsh, virshEnvironment, type VirshProcess } from './virsh-process.js';

/**
 * A virsh started for a session: its process (whose `exited` settles once its history directory is
 * removed) and the names its errors use.
 *
 * @example
 * const started = startVirsh({ uri: 'qemu:///system' });
 * const session = await openVirsh({ started });
 */
export interface StartedVirsh {
  /** The URI it was started for, as the caller named it (`undefined`: virsh's default). */
  readonly uri: string | undefined;
  readonly virshPath: string;
  /** Its arguments (`-q`, and `-c URI` when a URI was named). */
  readonly argv: readonly string[];
  /** The URI as messages name it until virsh reports the canonical one. */
  readonly shownUri: string;
  readonly process: VirshProcess;
}

/** Options of {@link startVirsh}: those of `openVirsh` that shape the process. */
export interface StartVirshOptions {
  readonly uri?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  readonly virshPath?: string | undefined;
}

/**
 * Starts `virsh -q [-c URI]` in its interactive shell, with a private history directory (removed when
 * virsh exits). It never throws: a virsh that cannot be started says why through `process.exited`. The
 * caller has checked the URI (no control character).
 *
 * @example
 * const started = startVirsh({ uri: 'qemu:///system' });
 */
export function startVirsh(options: StartVirshOptions = {}): StartedVirsh {
  const virshPath = options.virshPath ?? 'virsh';
  const uri = options.uri === '' ? undefined : options.uri;
  const history = privateHistory(uri);
  const env = virshEnvironment({ ...(history ? { XDG_CACHE_HOME: history } : {}), ...options.env });
  const argv = ['-q', ...(uri === undefined ? [] : ['-c', uri])];
  const virsh = spawnVirsh(virshPath, argv, env);
  const exited = virsh.exited.then((exit) => {
    removeHistoryDir(history);
    return exit;
  });
  return { uri, virshPath, argv, shownUri: shownUri(uri, env), process: { ...virsh, exited } };
}

/**
 * How messages name the URI of a virsh started with `uri` in `env`, until virsh reports the canonical one.
 *
 * @example
 * shownUri(undefined, { LIBVIRT_DEFAULT_URI: 'qemu:///system' }) // 'qemu:///system'
 */
export function shownUri(uri: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return uri || env['VIRSH_DEFAULT_CONNECT_URI'] || env['LIBVIRT_DEFAULT_URI'] || 'the default URI';
}
