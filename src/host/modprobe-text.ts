/**
 * The text of a modprobe.d file as modprobe (kmod) and the kernel read it: backslash line
 * continuations, `#` comment lines, `options MODULE PARAMS` split the kernel's way (`next_arg`),
 * `kvm-intel` and `kvm_intel` the same module, and booleans read as `kstrtobool` reads them. Pure.
 */

/**
 * One kernel parameter of an `options` line, as the kernel splits it (whitespace, double quotes).
 * `start`/`end` are offsets in the logical line's `text`.
 *
 * @example
 * const param: KernelParameter = { name: 'nested', value: '1', start: 18, end: 26 };
 */
export interface KernelParameter {
  readonly name: string;
  /** `undefined` for a bare name (`nested`), which a boolean parameter takes as on. */
  readonly value: string | undefined;
  readonly start: number;
  readonly end: number;
}

/**
 * One logical line: physical lines joined where one ends with a backslash.
 *
 * @example
 * parseModprobeText('options kvm_intel \\\n nested=1\n')[0]?.text; // 'options kvm_intel  nested=1'
 */
export interface ModprobeLine {
  /** 1-based number of the physical line it starts on. */
  readonly line: number;
  /** Offsets in the file's text: where the line starts, and where it ends (before its newline). */
  readonly start: number;
  readonly end: number;
  /** The line as modprobe sees it. */
  readonly text: string;
  /** For each character of `text`, its offset in the file's text. */
  readonly offsets: readonly number[];
  /** Set for an `options MODULE PARAMS` line. */
  readonly options: { readonly module: string; readonly parameters: readonly KernelParameter[] } | undefined;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isFieldSeparator = (c: string | undefined): boolean => c === ' ' || c === '\t';

/**
 * The name modprobe uses for a module: dashes are underscores.
 *
 * @example
 * moduleName('kvm-intel'); // 'kvm_intel'
 */
export function moduleName(spelled: string): string {
  return spelled.replaceAll('-', '_');
}

function logicalLines(text: string): Array<Omit<ModprobeLine, 'options'>> {
  const lines: Array<Omit<ModprobeLine, 'options'>> = [];
  let i = 0;
  let physical = 1;
  while (i < text.length) {
    const start = i;
    const line = physical;
    let joined = '';
    const offsets: number[] = [];
    while (i < text.length && text[i] !== '\n') {
      if (text[i] === '\\') {
        if (text[i + 1] === '\n') {
          i += 2;
          physical += 1;
          continue;
        }
        // modprobe drops a backslash before any other character and keeps that character.
        if (i + 1 < text.length) {
          joined += text[i + 1];
          offsets.push(i + 1);
        }
        i += 2;
        continue;
      }
      joined += text[i];
      offsets.push(i);
      i += 1;
    }
    lines.push({ line, start, end: Math.min(i, text.length), text: joined, offsets });
    if (i < text.length) {
      i += 1;
      physical += 1;
    }
  }
  return lines;
}

/** The kernel's own splitting of a parameter string (`next_arg` in kernel/params.c). */
function kernelParameters(text: string, from: number): KernelParameter[] {
  const parameters: KernelParameter[] = [];
  let i = from;
  for (;;) {
    while (i < text.length && isSpace(text[i])) i += 1;
    if (i >= text.length) return parameters;
    const start = i;
    let inQuote = false;
    if (text[i] === '"') {
      inQuote = true;
      i += 1;
    }
    const bodyStart = i;
    let equals = -1;
    for (; i < text.length; i += 1) {
      if (isSpace(text[i]) && !inQuote) break;
      if (equals < 0 && text[i] === '=') equals = i;
      if (text[i] === '"') inQuote = !inQuote;
    }
    const stripQuote = (s: string) => (s.endsWith('"') ? s.slice(0, -1) : s);
    if (equals < 0) {
      const name = text.slice(bodyStart, i);
      parameters.push({ name: bodyStart > start ? stripQuote(name) : name, value: undefined, start, end: i });
    } else {
      let value = text.slice(equals + 1, i);
      if (value.startsWith('"')) value = stripQuote(value.slice(1));
      else if (bodyStart > start) value = stripQuote(value);
      parameters.push({ name: text.slice(bodyStart, equals), value, start, end: i });
    }
  }
}

function optionsOf(text: string): ModprobeLine['options'] {
  if (text === '' || text.startsWith('#')) return undefined;
  let i = 0;
  const field = () => {
    while (i < text.length && isFieldSeparator(text[i])) i += 1;
    const start = i;
    while (i < text.length && !isFieldSeparator(text[i])) i += 1;
    return text.slice(start, i);
  };
  if (field() !== 'options') return undefined;
  const module = field();
  // modprobe ignores `options MODULE` with nothing after the separator as a bad line.
  if (module === '' || i + 1 >= text.length) return undefined;
  return { module, parameters: kernelParameters(text, i + 1) };
}

/**
 * Splits a modprobe.d file into logical lines, with the `options` lines parsed.
 *
 * @example
 * parseModprobeText('# kvm\noptions kvm_intel nested=1\n')[1]?.options?.parameters[0]?.value; // '1'
 */
export function parseModprobeText(text: string): ModprobeLine[] {
  return logicalLines(text).map((line) => ({ ...line, options: optionsOf(line.text) }));
}

/**
 * How the kernel reads a boolean parameter (`kstrtobool`): `true`, `false`, or `undefined` for a
 * value it rejects (then the module does not load). A bare parameter (`nested`) is on.
 *
 * @example
 * kernelBool('Y'); // true
 * kernelBool('0'); // false
 */
export function kernelBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return true;
  const first = value[0];
  if (first === 'y' || first === 'Y' || first === 't' || first === 'T' || first === '1') return true;
  if (first === 'n' || first === 'N' || first === 'f' || first === 'F' || first === '0') return false;
  if (first === 'o' || first === 'O') {
    if (value[1] === 'n' || value[1] === 'N') return true;
    if (value[1] === 'f' || value[1] === 'F') return false;
  }
  return undefined;
}

