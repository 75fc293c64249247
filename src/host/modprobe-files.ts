/**
 * Reading modprobe's configuration off a machine: the files of its directories (which of them count
 * is `effectiveModprobeFiles`' to say) and the kernel command line. The parsing is in
 * `modprobe-config.ts`, which reads nothing.
 */
import type { HostFs } from './host-fs.js';
import { effectiveModprobeFiles, isModprobeFileName, KERNEL_CMDLINE_PATH, MODPROBE_DIRECTORIES, parseKernelCmdline, type ModprobeFile, type ModuleParameter } from './modprobe-config.js';

/**
 * Reads the configuration files of the machine in the order modprobe reads them. A name masked by a
 * link to `/dev/null`, or a file that cannot be read, gives modprobe nothing: its text is empty.
 *
 * @example
 * const files = await readModprobeFiles(createHostFs('/')); // [{ path: '/etc/modprobe.d/kvm.conf', text: '…' }, …]
 */
export async function readModprobeFiles(fs: HostFs): Promise<ModprobeFile[]> {
  const candidates: ModprobeFile[] = [];
  for (const directory of MODPROBE_DIRECTORIES) {
    for (const name of (await fs.list(directory)) ?? []) {
      if (!isModprobeFileName(name)) continue;
      const path = `${directory}/${name}`;
      if ((await fs.resolve(path)).kind === 'directory') continue;
      candidates.push({ path, text: '' });
    }
  }
  const files: ModprobeFile[] = [];
  for (const file of effectiveModprobeFiles(candidates)) {
    files.push({ path: file.path, text: (await fs.readText(file.path).catch(() => undefined)) ?? '' });
  }
  return files;
}

/**
 * The `module.param=value` words of the machine's kernel command line.
 *
 * @example
 * const cmdline = await readKernelCmdline(createHostFs('/'));
 */
export async function readKernelCmdline(fs: HostFs): Promise<ModuleParameter[]> {
  return parseKernelCmdline((await fs.readText(KERNEL_CMDLINE_PATH)) ?? '');
}
