/**
 * Undo: define a backup again, through the same safe path as set-cpu (shut-off guests only,
 * compare-and-swap, `define --validate`, read-back, rollback only of what it wrote). It changes a guest
 * only while its definition is still the one virt-nested last wrote (the SHA-256 kept in the latest
 * backup's metadata), unless forced. The definition it replaces is backed up first, so a restore is
 * itself undone by the next `restore`.
 */
import { readFile } from 'node:fs/promises';
import { VirtNestedError } from '../errors.js';
import { parseDomain } from '../domain/parse-domain.js';
import { virshHint } from '../virsh/hint.js';
import { defaultBackupDir } from './backup-dir.js';
import { readBackupMetadata, recordDefined, sha256Hex, type BackupMetadata } from './backup-metadata.js';
import { stageDefinition } from './stage-definition.js';
import { writeBackup } from './backup.js';
import { defineSafely } from './define-safely.js';
import { requireShutOff, type DefineWorkflowOptions, type SafeDefineHooks } from './define-workflow.js';
import { readGuest, type ApplyWarning } from './plan-cpu-mode.js';
import { latestBackup } from './list-backups.js';
import { startWatch } from './watch-guest.js';

/** Options of {@link restoreDefinition}. */
export interface RestoreDefinitionOptions extends DefineWorkflowOptions {
  /** The backup to define (a path); default: the guest's latest backup at this URI. */
  readonly backup?: string;
  /** Restore even when the definition is not the one virt-nested last wrote. */
  readonly force?: boolean;
}

/**
 * What `restoreDefinition` did. The shape `restore GUEST --json` prints (with `schemaVersion`).
 *
 * @example
 * const result: RestoreResult = { guest: 'web-1', uri: 'qemu:///system', changed: true, restoredFrom: '/b/web-1@local-20261125T061500Z.xml', backup: '/b/web-1@local-20261125T062000Z.xml', forced: false, warnings: [] };
 */
export interface RestoreResult {
  readonly guest: string;
  readonly uri: string;
  /** The definition changed (false: it already was the backup's). */
  readonly changed: boolean;
  /** The backup that was defined. */
  readonly restoredFrom: string;
  /** The backup of the definition it replaced, or null when nothing was defined. */
  readonly backup: string | null;
  /** The compare-and-swap against what virt-nested last wrote was skipped (`force`). */
  readonly forced: boolean;
  readonly warnings: readonly ApplyWarning[];
}

/**
 * Defines a guest's latest (or the named) backup again, safely. Refuses a guest that is not shut off
 * (exit 1), and one whose definition is not the one virt-nested last wrote (`GUEST_CHANGED`, exit 1)
 * unless `force`; a missing guest or backup is exit 2 (`GUEST_NOT_FOUND`, `BACKUP_NOT_FOUND`).
 *
 * @example
 * await withVirsh({ uri: 'qemu:///system' }, (session) => restoreDefinition('web-1', { session }));
 * // { guest: 'web-1', changed: true, restoredFrom: '…/web-1@local-20261125T061500Z.xml', … }
 */
export async function restoreDefinition(guest: string, options: RestoreDefinitionOptions): Promise<RestoreResult> {
  return restoreDefinitionWithHooks(guest, options, {});
}

/**
 * {@link restoreDefinition} with test hooks (internal: not exported from the package).
 *
 * @example
 * await restoreDefinitionWithHooks('web-1', { session }, { beforeRecheck: async () => { … } });
 */
export async function restoreDefinitionWithHooks(guest: string, options: RestoreDefinitionOptions, hooks: SafeDefineHooks): Promise<RestoreResult> {
  const { session } = options;
  const who = `guest "${guest}"`;
  const backupDir = options.backupDir ?? defaultBackupDir(options.env ?? process.env);
  const now = options.now ?? (() => new Date());
  const forced = Boolean(options.force);
  const latest = await latestBackup(guest, session.uri, { backupDir });
  const source = options.backup ?? latest?.file;
  if (source === undefined) {
    throw new VirtNestedError('BACKUP_NOT_FOUND', `there is no backup of ${who} at ${session.uri} in ${backupDir}; list them with: virt-nested backups -c ${session.uri}`);
  }
  const sourceMetadata = options.backup === undefined ? latest : await readBackupMetadata(options.backup);
  const wanted = await readBackupFile(source, sourceMetadata, guest);

  const [state, current] = await readGuest(session, guest);
  requireShutOff(session, guest, state, 'restore',
    (s) => `${who} is ${s}; shut it off first (${virshHint(session.uri, 'shutdown', { guest })}), then run restore again`);
  const base = { guest, uri: session.uri, restoredFrom: source, forced };
  if (current === wanted) return { ...base, changed: false, backup: null, warnings: [] };
  if (!forced && (latest?.defined == null || latest.defined.sha256 !== sha256Hex(current))) {
    const why = latest?.defined == null
      ? 'virt-nested has no record of having defined it'
      : 'it is not the one virt-nested last wrote (another tool changed it since)';
    throw new VirtNestedError('GUEST_CHANGED', `the definition of ${who} was not restored: ${why}; nothing was changed, check it and use --force to restore ${source} anyway`);
  }

  const watch = startWatch(session, guest, options.watchEvents);
  try {
    const uuid = parseDomain(current).uuid ?? null;
    const [saved, staged] = await Promise.all([
      writeBackup(backupDir, guest, session.uri, current, now(), { uuid, reason: 'restore' }),
      stageDefinition(backupDir, hooks.transform ? hooks.transform(wanted) : wanted),
    ]).catch((error: unknown) => {
      if (error instanceof VirtNestedError) throw error;
      const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
      throw new VirtNestedError('FILE_UNWRITABLE', `cannot write the backup of ${who} in ${backupDir} (${reason}); nothing was changed: set VIRT_NESTED_BACKUP_DIR to a directory you can write`, { cause: error });
    });
    try {
      const result = await defineSafely({
        session, guest, command: 'restore', original: current, staged, stagingDir: backupDir, backup: saved, watch, hooks,
        wanted: (readBack) => readBack === wanted,
        // a backup is libvirt's own dumpxml output: defined again, libvirt prints it byte for byte
        looksOurs: () => false,
        describeUnwanted: () => `the definition of ${who} is not the one in ${source}`,
        startedMessage: `${who} was started while it was being restored: the definition from ${source} is in place, but the running guest {keeps} the one before`,
        record: (readBack) => recordDefined(saved, sha256Hex(readBack), now()).then((): ApplyWarning[] => [], (): ApplyWarning[] => [
          { code: 'backup-metadata-unwritten', message: `could not record in ${saved}'s metadata what virt-nested defined; the next restore will ask for --force` },
        ]),
      });
      if (result.race) throw result.race;
      return { ...base, changed: true, backup: saved, warnings: [...result.warnings] };
    } finally {
      await staged.remove();
    }
  } finally {
    await watch?.close();
  }
}

/** The backup's text, checked against its metadata: its guest, and its SHA-256 (a damaged file is refused). */
async function readBackupFile(file: string, metadata: BackupMetadata | undefined, guest: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VirtNestedError(code === 'ENOENT' ? 'BACKUP_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read the backup ${file} (${code ?? String(error)}); nothing was changed`, { cause: error });
  }
  if (metadata !== undefined && metadata.sha256 !== sha256Hex(text)) {
    throw new VirtNestedError('FILE_UNREADABLE', `the backup ${file} is not what virt-nested wrote (its SHA-256 differs from the one in its metadata); nothing was changed`);
  }
  const name = parseDomain(text, { file }).name;
  if (name !== guest) {
    throw new VirtNestedError('USAGE', `the backup ${file} is of guest "${name ?? '?'}", not of guest "${guest}"; nothing was changed`);
  }
  return text;
}
