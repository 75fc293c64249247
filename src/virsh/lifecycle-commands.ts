/**
 * Typed virsh commands that start, stop and remove guests: one function per virsh command, its options
 * named as virsh names them.
 */
import { flag, guestArgs, valued } from './command-args.js';
import type { VirshRunOptions, VirshRunner } from './runner.js';

/**
 * Options of `shutdown`.
 *
 * @example
 * await session.shutdown('web-1', { mode: 'acpi' });
 */
export interface ShutdownOptions extends VirshRunOptions {
  /** `--mode`: how the guest is asked (`acpi`, `agent`, `initctl`, `signal`, `paravirt`). */
  mode?: 'acpi' | 'agent' | 'initctl' | 'signal' | 'paravirt';
}

/**
 * Options of `destroy`.
 *
 * @example
 * await session.destroy('web-1', { graceful: true });
 */
export interface DestroyOptions extends VirshRunOptions {
  /** `--graceful`: only SIGTERM the emulator, no SIGKILL. */
  graceful?: boolean;
}

/**
 * Options of `undefine`.
 *
 * @example
 * await session.undefine('web-1', { nvram: true });
 */
export interface UndefineOptions extends VirshRunOptions {
  /** `--nvram`: also remove the UEFI variable store (virsh refuses to undefine such a guest otherwise). */
  nvram?: boolean;
  /** `--keep-nvram`: keep it. */
  keepNvram?: boolean;
  /** `--managed-save`: also remove a managed save image. */
  managedSave?: boolean;
  /** `--snapshots-metadata`: also remove snapshot metadata. */
  snapshotsMetadata?: boolean;
  /** `--checkpoints-metadata`: also remove checkpoint metadata. */
  checkpointsMetadata?: boolean;
}

/**
 * `virsh start --domain GUEST`.
 *
 * @example
 * await start(session, 'web-1');
 */
export async function start(runner: VirshRunner, guest: string, options: VirshRunOptions = {}): Promise<void> {
  await runner.run(guestArgs('start', guest), options);
}

/**
 * `virsh shutdown --domain GUEST [--mode M]`: asks the guest to power off and returns at once; poll
 * `domstate` for `shut off`.
 *
 * @example
 * await shutdown(session, 'web-1', { mode: 'acpi' });
 */
export async function shutdown(runner: VirshRunner, guest: string, options: ShutdownOptions = {}): Promise<void> {
  await runner.run([...guestArgs('shutdown', guest), ...valued(options.mode, '--mode')], options);
}

/**
 * `virsh destroy --domain GUEST [--graceful]`: stops the guest at once, like pulling the plug.
 *
 * @example
 * await destroy(session, 'scratch-1');
 */
export async function destroy(runner: VirshRunner, guest: string, options: DestroyOptions = {}): Promise<void> {
  await runner.run([...guestArgs('destroy', guest), ...flag(options.graceful, '--graceful')], options);
}

/**
 * `virsh undefine --domain GUEST [--nvram | --keep-nvram] [--managed-save] [--snapshots-metadata]
 * [--checkpoints-metadata]`.
 *
 * @example
 * await undefine(session, 'scratch-1', { nvram: true });
 */
export async function undefine(runner: VirshRunner, guest: string, options: UndefineOptions = {}): Promise<void> {
  const args = [
    ...guestArgs('undefine', guest),
    ...flag(options.nvram, '--nvram'),
    ...flag(options.keepNvram, '--keep-nvram'),
    ...flag(options.managedSave, '--managed-save'),
    ...flag(options.snapshotsMetadata, '--snapshots-metadata'),
    ...flag(options.checkpointsMetadata, '--checkpoints-metadata'),
  ];
  await runner.run(args, options);
}
