/**
 * Pure edits of modprobe.d text: only the bytes that must change do; every other line is kept as
 * it was, byte for byte.
 */
import type { KvmModule } from './cpuinfo.js';
import { applySplices, type Splice } from '../xml/splice.js';
import { kernelBool, moduleName, parseModprobeText, type KernelParameter, type ModprobeLine } from './modprobe-text.js';

function newlineOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function rawRange(line: ModprobeLine, parameter: Pick<KernelParameter, 'start' | 'end'>): { start: number; end: number } {
  return { start: line.offsets[parameter.start] as number, end: (line.offsets[parameter.end - 1] as number) + 1 };
}

function isNested(parameter: KernelParameter): boolean {
  return moduleName(parameter.name) === 'nested';
}

/**
 * Makes `text` (a modprobe.d file, `undefined` when it does not exist) give `module` `nested=VALUE`
 * (`1` by default, or `0`): unchanged when its last `nested` for the module already reads so; else
 * that value becomes VALUE; else ` nested=VALUE` joins the module's last `options` line; else
 * `options MODULE nested=VALUE` is appended. The file's own spelling of the module (`kvm-intel`) is kept.
 *
 * @example
 * setNestedOption('options kvm_intel nested=0 enable_apicv=1\n', 'kvm_intel'); // 'options kvm_intel nested=1 enable_apicv=1\n'
 * setNestedOption(undefined, 'kvm_amd', '0'); // 'options kvm_amd nested=0\n'
 */
export function setNestedOption(text: string | undefined, module: KvmModule, value: '1' | '0' = '1'): string {
  const source = text ?? '';
  const lines = parseModprobeText(source).filter((line) => line.options !== undefined && moduleName(line.options.module) === module);
  let last: { line: ModprobeLine; parameter: KernelParameter } | undefined;
  for (const line of lines) {
    for (const parameter of line.options?.parameters ?? []) if (isNested(parameter)) last = { line, parameter };
  }
  if (last !== undefined) {
    if (kernelBool(last.parameter.value) === (value === '1')) return source;
    return applySplices(source, [{ ...rawRange(last.line, last.parameter), text: `nested=${value}` }]);
  }
  const lastLine = lines[lines.length - 1];
  if (lastLine !== undefined) {
    const parameters = lastLine.options?.parameters ?? [];
    const lastParameter = parameters[parameters.length - 1];
    if (lastParameter !== undefined) {
      const at = rawRange(lastLine, lastParameter).end;
      return applySplices(source, [{ start: at, end: at, text: ` nested=${value}` }]);
    }
  }
  return appendLine(source, `options ${module} nested=${value}`);
}

function appendLine(text: string, line: string): string {
  const newline = newlineOf(text);
  const base = text === '' || text.endsWith('\n') ? text : text + newline;
  const appended = base + line + newline;
  // A last line ending in a backslash would swallow ours; an empty line ends it first.
  if (parseModprobeText(appended).some((l) => l.text === line)) return appended;
  return base + newline + line + newline;
}

/**
 * Comments out the `options` lines of `module` that start on the given physical lines and set
 * `nested`, each after a `# note` line; the line's other parameters stay, on a line of their own.
 *
 * @example
 * disableNestedLines('options kvm_intel nested=0 ept=1\n', 'kvm_intel', [1], 'virt-nested: this overrode kvm.conf');
 * // '# virt-nested: this overrode kvm.conf\n# options kvm_intel nested=0 ept=1\noptions kvm_intel ept=1\n'
 */
export function disableNestedLines(text: string, module: KvmModule, lineNumbers: readonly number[], note: string): string {
  const newline = newlineOf(text);
  const wanted = new Set(lineNumbers);
  const splices: Splice[] = [];
  for (const line of parseModprobeText(text)) {
    const options = line.options;
    if (!wanted.has(line.line) || options === undefined || moduleName(options.module) !== module) continue;
    if (!options.parameters.some(isNested)) continue;
    let commented = line.text.replace(/\r$/, '');
    // A comment ending in a backslash would continue into, and so hide, the line after it.
    if (commented.endsWith('\\')) commented += ' ';
    const kept = options.parameters.filter((parameter) => !isNested(parameter)).map((parameter) => {
      // The file's own bytes: the logical text has lost the backslashes that escape characters.
      const range = rawRange(line, parameter);
      return text.slice(range.start, range.end);
    });
    const replacement = [`# ${note}`, `# ${commented}`, ...(kept.length > 0 ? [`options ${options.module} ${kept.join(' ')}`] : [])].join(newline);
    const end = text[line.end - 1] === '\r' ? line.end - 1 : line.end;
    splices.push({ start: line.start, end, text: replacement });
  }
  return applySplices(text, splices);
}
