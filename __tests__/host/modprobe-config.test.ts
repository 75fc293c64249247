import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  describeSetting,
  moduleParameters,
  parseKernelCmdline,
  persistentNestedFrom,
  type ModprobeFile,
} from '../../src/host/modprobe-config.js';
import { kernelBool, parseModprobeText } from '../../src/host/modprobe-text.js';
import { createHostFs } from '../../src/host/host-fs.js';
import { readKernelCmdline, readModprobeFiles as readFiles } from '../../src/host/modprobe-files.js';

const readModprobeFiles = (root: string) => readFiles(createHostFs(root));
async function readPersistentNested(root: string, module: string) {
  const fs = createHostFs(root);
  return persistentNestedFrom(moduleParameters(await readFiles(fs), await readKernelCmdline(fs), module, 'nested'));
}
import { fixtureRoot } from './fixture-trees.js';

const nestedOf = (files: ModprobeFile[], cmdline = '') => persistentNestedFrom(moduleParameters(files, parseKernelCmdline(cmdline), 'kvm_intel', 'nested'));

describe('parseModprobeText', () => {
  test('joins backslash continuations and numbers lines as modprobe does', () => {
    const text = '# comment\noptions kvm_intel \\\n  nested=0 \\\n  ept=1\noptions kvm ignore_msrs=1\n';
    const lines = parseModprobeText(text);
    expect(lines.map((l) => [l.line, l.text])).toEqual([
      [1, '# comment'],
      [2, 'options kvm_intel   nested=0   ept=1'],
      [5, 'options kvm ignore_msrs=1'],
    ]);
    expect(lines[0]?.options).toBeUndefined();
    expect(lines[1]?.options?.module).toBe('kvm_intel');
    expect(lines[1]?.options?.parameters.map((p) => [p.name, p.value])).toEqual([['nested', '0'], ['ept', '1']]);
    // Offsets map each logical character back to the file.
    const nested = lines[1]?.options?.parameters[0];
    expect(text.slice(lines[1]?.offsets[nested?.start ?? 0], (lines[1]?.offsets[(nested?.end ?? 0) - 1] ?? 0) + 1)).toBe('nested=0');
  });

  test('a comment continued by a backslash swallows the next line', () => {
    const lines = parseModprobeText('# old: \\\noptions kvm_intel nested=0\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.options).toBeUndefined();
  });

  test('"#" only comments when it starts the line; other commands and bad lines are not options', () => {
    const lines = parseModprobeText('  # indented\nblacklist kvm_intel\noptions kvm_intel\noptions kvm_intel \ninstall kvm_intel /bin/true\n\toptions\tkvm-intel\tnested=Y\n');
    expect(lines.map((l) => l.options?.module)).toEqual([undefined, undefined, undefined, undefined, undefined, 'kvm-intel']);
  });

  test('quoted kernel parameters, bare parameters, and a backslash before any other character', () => {
    const line = parseModprobeText('options kvm_intel "nested=1" ple_gap="1 2" nested x\\y=1\n')[0];
    expect(line?.options?.parameters.map((p) => [p.name, p.value])).toEqual([['nested', '1'], ['ple_gap', '1 2'], ['nested', undefined], ['xy', '1']]);
  });

  test('CRLF files: the carriage return is whitespace to the kernel', () => {
    const line = parseModprobeText('options kvm_intel nested=0\r\n')[0];
    expect(line?.options?.parameters.map((p) => [p.name, p.value])).toEqual([['nested', '0']]);
  });
});

describe('what the next load gets', () => {
  test('kvm-intel and kvm_intel are one module, and the last value wins across files', () => {
    const persistent = nestedOf([
      { path: '/etc/modprobe.d/kvm.conf', text: 'options kvm_intel nested=1\n' },
      { path: '/etc/modprobe.d/zz-local.conf', text: '# local\noptions kvm-intel nested=0\n' },
    ]);
    expect(persistent.verdict).toBe('off');
    expect(persistent.source).toEqual({ path: '/etc/modprobe.d/zz-local.conf', line: 2, module: 'kvm-intel', name: 'nested', value: '0', text: 'options kvm-intel nested=0' });
    expect(persistent.settings).toHaveLength(2);
  });

  test('within one file the later line wins, and within one line the later parameter', () => {
    expect(nestedOf([{ path: '/etc/modprobe.d/kvm.conf', text: 'options kvm_intel nested=0\noptions kvm_intel nested=1\n' }]).verdict).toBe('on');
    expect(nestedOf([{ path: '/etc/modprobe.d/kvm.conf', text: 'options kvm_intel nested=1 nested=0\n' }]).verdict).toBe('off');
  });

  test('options of other modules do not count, and commented lines do not count', () => {
    const persistent = nestedOf([{ path: '/etc/modprobe.d/kvm.conf', text: 'options kvm_amd nested=0\n#options kvm_intel nested=0\noptions kvm nested=0\n' }]);
    expect(persistent).toEqual({ verdict: 'unset', value: undefined, source: undefined, settings: [] });
  });

  test('the kernel command line comes after every file', () => {
    const persistent = nestedOf([{ path: '/etc/modprobe.d/zz.conf', text: 'options kvm_intel nested=1\n' }], 'BOOT_IMAGE=/vmlinuz ro kvm-intel.nested=0 quiet\n');
    expect(persistent.verdict).toBe('off');
    expect(persistent.source?.path).toBe('/proc/cmdline');
    expect(describeSetting(persistent.source!)).toBe('the kernel command line');
    expect(parseKernelCmdline('a=b.c kvm.x kvm_amd.nested=1')).toEqual([
      { path: '/proc/cmdline', line: 1, module: 'kvm', name: 'x', value: undefined, text: 'kvm.x' },
      { path: '/proc/cmdline', line: 1, module: 'kvm_amd', name: 'nested', value: '1', text: 'kvm_amd.nested=1' },
    ]);
  });

  test('values the kernel reads as a boolean', () => {
    expect(['1', 'Y', 'y', 'on', 'true', undefined].map(kernelBool)).toEqual([true, true, true, true, true, true]);
    expect(['0', 'N', 'n', 'off', 'false'].map(kernelBool)).toEqual([false, false, false, false, false]);
    expect(['2', 'maybe', '', 'o'].map(kernelBool)).toEqual([undefined, undefined, undefined, undefined]);
    expect(nestedOf([{ path: '/etc/modprobe.d/kvm.conf', text: 'options kvm_intel nested=maybe\n' }]).verdict).toBe('invalid');
  });
});

describe('readModprobeFiles', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vn-modprobe-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const put = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };

  test('one list sorted by name over all directories; /etc hides the same name below; only *.conf, no dot files', async () => {
    await put('/lib/modprobe.d/kvm.conf', 'options kvm_intel nested=0\n');
    await put('/etc/modprobe.d/kvm.conf', 'options kvm_intel nested=1\n');
    await put('/lib/modprobe.d/50-a.conf', 'options kvm_intel nested=0\n');
    await put('/usr/lib/modprobe.d/zz-b.conf', '# b\n');
    await put('/run/modprobe.d/m.conf', '# m\n');
    await put('/etc/modprobe.d/zz-ignored.conf.dpkg-old', 'options kvm_intel nested=0\n');
    await put('/etc/modprobe.d/.hidden.conf', 'options kvm_intel nested=0\n');
    await put('/etc/modprobe.d/legacy.alias', '# alias\n');
    await mkdir(join(root, '/etc/modprobe.d/dir.conf'));
    const files = await readModprobeFiles(root);
    expect(files.map((f) => f.path)).toEqual([
      '/lib/modprobe.d/50-a.conf',
      '/etc/modprobe.d/kvm.conf',
      '/etc/modprobe.d/legacy.alias',
      '/run/modprobe.d/m.conf',
      '/usr/lib/modprobe.d/zz-b.conf',
    ]);
    expect((await readPersistentNested(root, 'kvm_intel')).verdict).toBe('on');
  });

  test('a name masked by a link to /dev/null gives nothing', async () => {
    await put('/lib/modprobe.d/kvm.conf', 'options kvm_intel nested=0\n');
    await mkdir(join(root, '/etc/modprobe.d'), { recursive: true });
    await symlink('/dev/null', join(root, '/etc/modprobe.d/kvm.conf'));
    expect(await readModprobeFiles(root)).toEqual([{ path: '/etc/modprobe.d/kvm.conf', text: '' }]);
    expect((await readPersistentNested(root, 'kvm_intel')).verdict).toBe('unset');
  });

  test('the fixture with nested=0 in a later file', async () => {
    const persistent = await readPersistentNested(fixtureRoot('intel-nested0-override-in-later-file'), 'kvm_intel');
    expect(persistent.verdict).toBe('off');
    expect(persistent.settings.map((s) => `${describeSetting(s)}: ${s.text}`)).toEqual([
      '/etc/modprobe.d/kvm.conf line 1: options kvm_intel nested=1',
      '/etc/modprobe.d/zz-local.conf line 2: options kvm-intel nested=0',
    ]);
  });

  test('no modprobe.d at all', async () => {
    expect(await readModprobeFiles(fixtureRoot('no-vmx-svm'))).toEqual([]);
  });
});
