/**
 * The first step of every host command: read, once, everything the checks and plans look at. What
 * comes after (`planNested`, `hostChecks`) is pure over this state; only `applyPlan` writes.
 */
import { VirtNestedError } from '../errors.js';
import { kvmModuleFor, parseCpuinfo, type CpuInfo, type KvmModule } from './cpuinfo.js';
import type { HostFs, ResolvedPath } from './host-fs.js';
import type { KernelFiles } from './kernel-advisory.js';
import { readKvmModuleState, type KvmModuleState } from './kvm-module.js';
import { editablePathFor, KVM_CONF_PATH, type ModprobeFile, type ModuleParameter } from './modprobe-config.js';
import { readKernelCmdline, readModprobeFiles } from './modprobe-files.js';

/**
 * A file a plan may write, as it is now: its bytes, where its symlinks lead, and its mode.
 *
 * @example
 * const file: HostFileState = { path: '/etc/modprobe.d/kvm.conf', text: undefined, target: { path: '/etc/modprobe.d/kvm.conf', kind: undefined, linked: false }, mode: undefined };
 */
export interface HostFileState {
  readonly path: string;
  /** `undefined` when there is no file. */
  readonly text: string | undefined;
  readonly target: ResolvedPath;
  readonly mode: number | undefined;
}

/**
 * Everything the host commands know about the machine under a root.
 *
 * @example
 * const state = await readHostState(createHostFs('/'));
 * if (state.module) console.log(state.module, state.moduleState?.nested);
 */
export interface HostState {
  readonly cpu: CpuInfo;
  /** The KVM module this CPU needs; `undefined` off x86 or for an unknown vendor. */
  readonly module: KvmModule | undefined;
  readonly moduleState: KvmModuleState | undefined;
  readonly devKvm: boolean;
  /** The modprobe.d files modprobe reads, in its order. */
  readonly files: readonly ModprobeFile[];
  readonly cmdline: readonly ModuleParameter[];
  /** The files a plan may write: kvm.conf, and every modprobe file with the path a change to it goes to. */
  readonly writable: ReadonlyMap<string, HostFileState>;
  readonly kernel: KernelFiles;
}

/**
 * Reads `/proc/cpuinfo`; a machine without it cannot be checked at all.
 *
 * @example
 * const cpu = await readCpuinfo(createHostFs('/'));
 */
export async function readCpuinfo(fs: HostFs): Promise<CpuInfo> {
  const text = await fs.readText('/proc/cpuinfo');
  if (text === undefined) {
    throw new VirtNestedError('FILE_UNREADABLE', `${fs.root.replace(/\/$/, '')}/proc/cpuinfo does not exist, so the CPU cannot be checked; mount /proc and run again`);
  }
  return parseCpuinfo(text);
}

async function fileState(fs: HostFs, path: string): Promise<HostFileState> {
  const target = await fs.resolve(path);
  const text = target.kind === 'file' ? await fs.readText(path) : undefined;
  return { path, text, target, mode: target.kind === undefined ? undefined : await fs.mode(path) };
}

/**
 * Reads the machine under `fs.root`: the CPU, the KVM module, modprobe's configuration, the files a
 * plan may write, and what the kernel says about its version.
 *
 * @example
 * const state = await readHostState(createHostFs('fixtures/hosts/intel-nested-off'));
 */
export async function readHostState(fs: HostFs): Promise<HostState> {
  const cpu = await readCpuinfo(fs);
  const module = kvmModuleFor(cpu);
  const files = await readModprobeFiles(fs);
  const writable = new Map<string, HostFileState>();
  for (const path of [KVM_CONF_PATH, ...files.map((file) => file.path), ...files.map((file) => editablePathFor(file.path))]) {
    if (!writable.has(path)) writable.set(path, await fileState(fs, path));
  }
  const trimmed = async (path: string) => (await fs.readText(path))?.trim();
  return {
    cpu,
    module,
    moduleState: module === undefined ? undefined : await readKvmModuleState(fs, module),
    devKvm: await fs.exists('/dev/kvm'),
    files,
    cmdline: await readKernelCmdline(fs),
    writable,
    kernel: {
      osrelease: await trimmed('/proc/sys/kernel/osrelease'),
      version: await trimmed('/proc/version'),
      signature: await trimmed('/proc/version_signature'),
    },
  };
}
