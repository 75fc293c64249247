/**
 * What every command that defines a guest (set-cpu, restore) shares before its define: the session it
 * is given, its options and test hooks, and the refusal of a guest that is not shut off for good.
 */
import { GuestNotShutOffError } from '../errors.js';
import { virshHint } from '../virsh/hint.js';
import type { VirshSession } from '../virsh/session.js';
import type { LifecycleWatch } from '../virsh/lifecycle-events.js';
import type { StagedDefinition } from './stage-definition.js';
import type { ApplyWarning, GuestState } from './plan-cpu-mode.js';

/** What the workflow needs of a virsh session (see `virsh/`). */
export type VirshCommands = Pick<VirshSession, 'uri' | 'run' | 'dumpxml' | 'domcapabilities' | 'define'>;

/**
 * What every command that defines a guest (set-cpu, restore) is given.
 *
 * @example
 * const options: DefineWorkflowOptions = { session, backupDir: '/var/lib/virt-nested/backups' };
 */
export interface DefineWorkflowOptions {
  /** The open virsh session to use (the caller closes it). */
  readonly session: VirshCommands;
  /** Where backups go, and where the new definition is staged for `virsh define --file` (default: see `defaultBackupDir`). */
  readonly backupDir?: string;
  /** The environment `defaultBackupDir` reads (`VIRT_NESTED_BACKUP_DIR`, `XDG_STATE_HOME`); `process.env` when not given. */
  readonly env?: NodeJS.ProcessEnv;
  /** The clock, for the backup's time stamp; `new Date()` when not given. */
  readonly now?: () => Date;
  /**
   * Watch libvirt's lifecycle events of the guest during the define (default true), to find a define
   * or start by another tool that the compare-and-swap cannot see. Off, such races are found only from
   * what the definition holds afterwards.
   */
  readonly watchEvents?: boolean;
}

/**
 * Test hooks: not part of the public options. Tests pass them to the internal entry points
 * (`applyCpuModeWithHooks`, `restoreDefinitionWithHooks`) to race the workflow at fixed points.
 */
export interface SafeDefineHooks {
  /** A last change to the XML before it is defined; it goes through the same define, verify and rollback. */
  readonly transform?: (xml: string) => string;
  /** Called between the first read and the compare-and-swap re-read. */
  readonly beforeRecheck?: () => Promise<void>;
  /** Called after the compare-and-swap re-read passed, right before our define. */
  readonly beforeDefine?: () => Promise<void>;
  /** Called right after our define returned, before the read-back. */
  readonly afterDefine?: () => Promise<void>;
  /** Called when our define is to be undone, before anything of the rollback. */
  readonly beforeRollback?: () => Promise<void>;
}

/**
 * Refuses unless the guest is shut off for good: no managed save image that would resume the old
 * definition.
 *
 * @example
 * requireShutOff(session, 'web-1', state, 'set-cpu', (s) => `guest "web-1" is ${s}`);
 */
export function requireShutOff(session: VirshCommands, guest: string, { state, active, managedSave }: GuestState, command: string, message: (state: string) => string): void {
  if (state !== 'shut off') throw new GuestNotShutOffError(guest, state, message(state));
  if (active) throw new GuestNotShutOffError(guest, 'starting', message('starting'));
  if (managedSave) {
    throw new GuestNotShutOffError(guest, state,
      `guest "${guest}" has a managed save image: its next start resumes the saved memory with the old ${command === 'set-cpu' ? 'CPU' : 'definition'}; discard it (${virshHint(session.uri, 'managedsave-remove', { guest })}, which loses that memory state) or start and shut down the guest, then run ${command} again`,
      { reason: 'managed-save' });
  }
}

/** What `defineSafely` is asked to do. */
export interface SafeDefine {
  readonly session: VirshCommands;
  readonly guest: string;
  /** The command, for advice ("run set-cpu again"). */
  readonly command: 'set-cpu' | 'restore';
  /** The definition as first read: the compare-and-swap expects it unchanged, and a rollback restores it. */
  readonly original: string;
  /** The new definition, already staged for `virsh define --file`. */
  readonly staged: StagedDefinition;
  /** The directory rollback definitions are staged in (the backup directory). */
  readonly stagingDir: string;
  /** The backup of `original`. */
  readonly backup: string;
  /** Lifecycle events of the guest, watched since before the re-read; undefined when they cannot be. */
  readonly watch: LifecycleWatch | undefined;
  /** The read-back is the definition that was asked for. */
  wanted(readBack: string): boolean;
  /** Without events: whether a read-back that is not wanted was still written by our define (libvirt changed it). */
  looksOurs(readBack: string): boolean;
  /**
   * Whether a read-back differs where our define changes nothing, so another tool wrote it whatever the
   * events say (its event may still be on its way on a loaded host). Default: never.
   */
  changedElsewhere?(readBack: string): boolean;
  /** Why a read-back of our own define is not what was asked, for the message. */
  describeUnwanted(readBack: string): string;
  /** The start of the message for a guest started during the edit; `{keeps}` stands for "keeps" or "may keep". */
  readonly startedMessage: string;
  /**
   * Records what was defined (the backup's metadata), once the read-back is what was asked; it runs
   * while the events settle, and its warnings join the result. Never called for a definition that is
   * then rolled back.
   */
  record?(readBack: string): Promise<readonly ApplyWarning[]>;
  readonly hooks: SafeDefineHooks;
}
