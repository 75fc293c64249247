/**
 * modprobe's configuration as a whole: every `*.conf` of its directories, one list sorted by file
 * name (a name in `/etc/modprobe.d` hides the same name further down), then `module.param=value`
 * words of the kernel command line. modprobe passes a module all its `options`, in that order, and
 * for a repeated parameter the kernel keeps the last value. Pure: the files are read by
 * `modprobe-files.ts`, and each file's text is parsed by `modprobe-text.ts`.
 */
import { posix } from 'node:path';
import { kernelBool, moduleName, parseModprobeText } from './modprobe-text.js';


/**
 * The directories modprobe reads, highest priority first (kmod's own order).
 *
 * @example
 * MODPROBE_DIRECTORIES[0]; // '/etc/modprobe.d'
 */
export const MODPROBE_DIRECTORIES: readonly string[] = [
  '/etc/modprobe.d',
  '/run/modprobe.d',
  '/usr/local/lib/modprobe.d',
  '/usr/lib/modprobe.d',
  '/lib/modprobe.d',
];

/**
 * Where `enableHost` keeps its `options` line, as the seed says.
 *
 * @example
 * await readFile(join(root, KVM_CONF_PATH), 'utf8');
 */
export const KVM_CONF_PATH = '/etc/modprobe.d/kvm.conf';

/**
 * Stands for the kernel command line in {@link ModuleParameter.path}.
 *
 * @example
 * if (setting.path === KERNEL_CMDLINE_PATH) console.log('set at boot');
 */
export const KERNEL_CMDLINE_PATH = '/proc/cmdline';

/**
 * One configuration file, with its path as seen on the host.
 *
 * @example
 * const file: ModprobeFile = { path: '/etc/modprobe.d/kvm.conf', text: 'options kvm_intel nested=1\n' };
 */
export interface ModprobeFile {
  readonly path: string;
  readonly text: string;
}

/**
 * A parameter given to a module by the configuration, where modprobe finds it.
 *
 * @example
 * const setting: ModuleParameter = { path: '/etc/modprobe.d/kvm.conf', line: 1, module: 'kvm-intel', name: 'nested', value: '1', text: 'options kvm-intel nested=1' };
 */
export interface ModuleParameter {
  /** The file, as seen on the host, or {@link KERNEL_CMDLINE_PATH}. */
  readonly path: string;
  readonly line: number;
  /** The module as the file spells it. */
  readonly module: string;
  readonly name: string;
  readonly value: string | undefined;
  /** The whole logical line (or command-line word) that gives it. */
  readonly text: string;
}

/**
 * Whether modprobe reads a file of this name from its directories: `*.conf` (and the old `*.alias`),
 * not hidden.
 *
 * @example
 * isModprobeFileName('kvm.conf'); // true
 * isModprobeFileName('.kvm.conf.123.tmp'); // false
 */
export function isModprobeFileName(name: string): boolean {
  return !name.startsWith('.') && name.length >= 6 && (name.endsWith('.conf') || name.endsWith('.alias'));
}

function priorityOf(path: string): number {
  const index = MODPROBE_DIRECTORIES.indexOf(posix.dirname(path));
  return index < 0 ? MODPROBE_DIRECTORIES.length : index;
}

/**
 * The files modprobe reads, out of files of any of its directories, in the order it reads them: a
 * name in a directory of higher priority hides the same name further down (so `/etc/modprobe.d/x.conf`
 * hides `/usr/lib/modprobe.d/x.conf`), and the rest is sorted by name. The one place this rule lives:
 * reading a machine and planning a change both go through it.
 *
 * @example
 * effectiveModprobeFiles([{ path: '/lib/modprobe.d/kvm.conf', text: 'a' }, { path: '/etc/modprobe.d/kvm.conf', text: 'b' }]);
 * // [{ path: '/etc/modprobe.d/kvm.conf', text: 'b' }]
 */
export function effectiveModprobeFiles(files: readonly ModprobeFile[]): ModprobeFile[] {
  const chosen = new Map<string, ModprobeFile>();
  for (const file of files) {
    const name = posix.basename(file.path);
    const held = chosen.get(name);
    if (held === undefined || priorityOf(file.path) < priorityOf(held.path)) chosen.set(name, file);
  }
  return [...chosen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, file]) => file);
}

/**
 * Where a change to a modprobe file is written: files below `/etc` belong to packages, which would
 * put them back on an upgrade, so an `/etc/modprobe.d` file of the same name hides them instead.
 *
 * @example
 * editablePathFor('/usr/lib/modprobe.d/zz-vendor.conf'); // '/etc/modprobe.d/zz-vendor.conf'
 */
export function editablePathFor(path: string): string {
  const directory = posix.dirname(path);
  return directory === '/usr/lib/modprobe.d' || directory === '/lib/modprobe.d' ? `/etc/modprobe.d/${posix.basename(path)}` : path;
}

/**
 * The `module.param=value` words of a kernel command line, which modprobe adds after the files.
 *
 * @example
 * parseKernelCmdline('ro quiet kvm-intel.nested=0\n'); // [{ path: '/proc/cmdline', line: 1, module: 'kvm-intel', name: 'nested', value: '0', text: 'kvm-intel.nested=0' }]
 */
export function parseKernelCmdline(text: string): ModuleParameter[] {
  const parameters: ModuleParameter[] = [];
  for (const word of text.split('\n')[0]?.split(' ') ?? []) {
    const dot = word.indexOf('.');
    const equals = word.indexOf('=');
    if (dot <= 0 || (equals >= 0 && equals < dot)) continue;
    const param = word.slice(dot + 1);
    const paramEquals = param.indexOf('=');
    parameters.push({
      path: KERNEL_CMDLINE_PATH,
      line: 1,
      module: word.slice(0, dot),
      name: paramEquals < 0 ? param : param.slice(0, paramEquals),
      value: paramEquals < 0 ? undefined : param.slice(paramEquals + 1),
      text: word,
    });
  }
  return parameters;
}

/**
 * Every value the configuration gives one parameter of one module, in the order the kernel
 * receives them (so the last one wins).
 *
 * @example
 * moduleParameters([{ path: '/etc/modprobe.d/a.conf', text: 'options kvm-intel nested=0\n' }], [], 'kvm_intel', 'nested');
 * // [{ path: '/etc/modprobe.d/a.conf', line: 1, module: 'kvm-intel', name: 'nested', value: '0', text: 'options kvm-intel nested=0' }]
 */
export function moduleParameters(
  files: readonly ModprobeFile[],
  cmdline: readonly ModuleParameter[],
  module: string,
  name: string,
): ModuleParameter[] {
  const wanted = moduleName(module);
  const wantedName = moduleName(name);
  const found: ModuleParameter[] = [];
  for (const file of files) {
    for (const line of parseModprobeText(file.text)) {
      if (line.options === undefined || moduleName(line.options.module) !== wanted) continue;
      for (const parameter of line.options.parameters) {
        // The kernel compares parameter names with dashes and underscores alike.
        if (moduleName(parameter.name) !== wantedName) continue;
        found.push({ path: file.path, line: line.line, module: line.options.module, name: parameter.name, value: parameter.value, text: line.text });
      }
    }
  }
  for (const parameter of cmdline) {
    if (moduleName(parameter.module) === wanted && moduleName(parameter.name) === wantedName) found.push(parameter);
  }
  return found;
}

/**
 * What the next load of the KVM module gets for `nested`, and from where.
 *
 * @example
 * const persistent: PersistentNested = { verdict: 'unset', value: undefined, source: undefined, settings: [] };
 */
export interface PersistentNested {
  /** `on`/`off` as the kernel reads the winning value, `invalid` when it would refuse it, `unset` for the kernel's default. */
  readonly verdict: 'on' | 'off' | 'invalid' | 'unset';
  readonly value: string | undefined;
  /** The setting that wins (the last one). */
  readonly source: ModuleParameter | undefined;
  /** Every setting of `nested` for the module, in modprobe's order. */
  readonly settings: readonly ModuleParameter[];
}

/**
 * Decides what `nested` will be at the next load from the settings in modprobe's order.
 *
 * @example
 * persistentNestedFrom([]).verdict; // 'unset'
 */
export function persistentNestedFrom(settings: readonly ModuleParameter[]): PersistentNested {
  const source = settings[settings.length - 1];
  if (source === undefined) return { verdict: 'unset', value: undefined, source: undefined, settings };
  const bool = kernelBool(source.value);
  return { verdict: bool === undefined ? 'invalid' : bool ? 'on' : 'off', value: source.value, source, settings };
}

/**
 * Where a setting is, for messages: `/etc/modprobe.d/kvm.conf line 2`, or the kernel command line.
 *
 * @example
 * describeSetting({ path: '/etc/modprobe.d/kvm.conf', line: 2 }); // '/etc/modprobe.d/kvm.conf line 2'
 */
export function describeSetting(setting: Pick<ModuleParameter, 'path' | 'line'>): string {
  return setting.path === KERNEL_CMDLINE_PATH ? 'the kernel command line' : `${setting.path} line ${setting.line}`;
}
