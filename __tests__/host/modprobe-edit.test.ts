import { parseModprobeText } from '../../src/host/modprobe-text.js';
import { disableNestedLines, setNestedOption } from '../../src/host/modprobe-edit.js';

describe('setNestedOption', () => {
  test('creates the seed\'s line when there is no file', () => {
    expect(setNestedOption(undefined, 'kvm_intel')).toBe('options kvm_intel nested=1\n');
    expect(setNestedOption('', 'kvm_amd')).toBe('options kvm_amd nested=1\n');
  });

  test('changes only the nested value, keeping other options and every other byte', () => {
    const before = '# KVM options\r\noptions kvm_intel nested=0 enable_apicv=1\r\noptions kvm ignore_msrs=1\r\n';
    expect(setNestedOption(before, 'kvm_intel')).toBe('# KVM options\r\noptions kvm_intel nested=1 enable_apicv=1\r\noptions kvm ignore_msrs=1\r\n');
  });

  test('keeps the file\'s spelling of the module', () => {
    expect(setNestedOption('options kvm-amd nested=0\n', 'kvm_amd')).toBe('options kvm-amd nested=1\n');
    expect(setNestedOption('options kvm-intel ept=1\n', 'kvm_intel')).toBe('options kvm-intel ept=1 nested=1\n');
  });

  test('is unchanged (the same string) when the last value is already on, whatever its spelling', () => {
    for (const text of ['options kvm_intel nested=1\n', 'options kvm_intel nested=Y', 'options kvm-intel nested\n', 'options kvm_intel nested=0\noptions kvm_intel nested=on\n']) {
      expect(setNestedOption(text, 'kvm_intel')).toBe(text);
    }
  });

  test('edits the last value when several are given', () => {
    expect(setNestedOption('options kvm_intel nested=1\noptions kvm_intel nested=0\n', 'kvm_intel')).toBe('options kvm_intel nested=1\noptions kvm_intel nested=1\n');
  });

  test('edits across a line continuation and a quoted token', () => {
    expect(setNestedOption('options kvm_intel \\\n  "nested=0" ept=1\n', 'kvm_intel')).toBe('options kvm_intel \\\n  nested=1 ept=1\n');
    expect(setNestedOption('options kvm_intel ept=1 \\\n   \n', 'kvm_intel')).toBe('options kvm_intel ept=1 nested=1 \\\n   \n');
  });

  test('appends after a last line without newline, or one continued into nothing', () => {
    expect(setNestedOption('options kvm ignore_msrs=1', 'kvm_intel')).toBe('options kvm ignore_msrs=1\noptions kvm_intel nested=1\n');
    expect(setNestedOption('options kvm ignore_msrs=1 \\\n', 'kvm_intel')).toBe('options kvm ignore_msrs=1 \\\n\noptions kvm_intel nested=1\n');
    expect(setNestedOption('# other module\noptions kvm_amd nested=0\n', 'kvm_intel')).toBe('# other module\noptions kvm_amd nested=0\noptions kvm_intel nested=1\n');
  });

  test('is idempotent', () => {
    for (const text of [undefined, 'options kvm_intel nested=0 ept=1\n', 'options kvm-intel ept=1', '# x \\\n']) {
      const once = setNestedOption(text, 'kvm_intel');
      expect(setNestedOption(once, 'kvm_intel')).toBe(once);
    }
  });
});

describe('disableNestedLines', () => {
  const note = 'virt-nested: this line overrode kvm.conf';

  test('comments out the line after a note, and keeps its other parameters on a line of their own', () => {
    expect(disableNestedLines('# local\noptions kvm-intel nested=0 ept=1\noptions kvm ignore_msrs=1\n', 'kvm_intel', [2], note)).toBe(
      '# local\n# virt-nested: this line overrode kvm.conf\n# options kvm-intel nested=0 ept=1\noptions kvm-intel ept=1\noptions kvm ignore_msrs=1\n',
    );
  });

  test('a continued line becomes one comment line; only the listed lines change', () => {
    expect(disableNestedLines('options kvm_intel \\\nnested=0\noptions kvm_intel nested=0\n', 'kvm_intel', [1], note)).toBe(
      '# virt-nested: this line overrode kvm.conf\n# options kvm_intel nested=0\noptions kvm_intel nested=0\n',
    );
  });

  test('a comment never ends in a backslash, so it cannot swallow the next line', () => {
    const out = disableNestedLines('options kvm_intel nested=0 x=\\\\\noptions kvm ignore_msrs=1\n', 'kvm_intel', [1], note);
    expect(out).toBe('# virt-nested: this line overrode kvm.conf\n# options kvm_intel nested=0 x=\\ \noptions kvm_intel x=\\\\\noptions kvm ignore_msrs=1\n');
    expect(parseModprobeText(out).map((l) => l.text)).toEqual([
      '# virt-nested: this line overrode kvm.conf',
      '# options kvm_intel nested=0 x= ',
      'options kvm_intel x=\\',
      'options kvm ignore_msrs=1',
    ]);
  });

  test('leaves lines of other modules, and lines without nested, alone', () => {
    const text = 'options kvm_amd nested=0\noptions kvm_intel ept=1\n';
    expect(disableNestedLines(text, 'kvm_intel', [1, 2], note)).toBe(text);
  });
});

describe('setNestedOption with nested=0 (disable-host)', () => {
  test('turns the last nested of the module off, keeps everything else, and is idempotent', () => {
    expect(setNestedOption('options kvm-amd nested=1 avic=1\n', 'kvm_amd', '0')).toBe('options kvm-amd nested=0 avic=1\n');
    expect(setNestedOption('options kvm_amd nested=N\n', 'kvm_amd', '0')).toBe('options kvm_amd nested=N\n');
    expect(setNestedOption('options kvm_amd avic=1\n', 'kvm_amd', '0')).toBe('options kvm_amd avic=1 nested=0\n');
    expect(setNestedOption(undefined, 'kvm_intel', '0')).toBe('options kvm_intel nested=0\n');
    // a bare `nested` is on for the kernel
    expect(setNestedOption('options kvm_intel nested\n', 'kvm_intel', '0')).toBe('options kvm_intel nested=0\n');
  });
});
