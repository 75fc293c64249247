import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VirtNestedError } from '../../src/errors.js';
import { parseDomain } from '../../src/domain/parse-domain.js';
import { serializeDomain } from '../../src/domain/serialize-domain.js';
import type { CpuMode, Domain } from '../../src/domain/types.js';
import { setCpuMode, type CpuCheck } from '../../src/cpu/set-cpu-mode.js';

const CORPUS = fileURLToPath(new URL('../../fixtures/libvirt-9.0.0/domains/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/domains/', import.meta.url));

const HOST_MODEL = "<cpu mode='host-model' check='partial'/>";

/** `text` with its one occurrence of `from` replaced by `to` (fails when `from` is not there exactly once). */
function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from)).toHaveLength(2);
  return text.replace(from, () => to);
}

/** The text of `input` after setCpuMode, and the resulting domain. */
function edit(input: string, mode: CpuMode = 'host-model', check?: CpuCheck): { output: string; domain: Domain } {
  const domain = setCpuMode(parseDomain(input), mode, check === undefined ? {} : { check });
  return { output: serializeDomain(domain), domain };
}

const fixtureText = (name: string) => readFileSync(FIXTURES + name, 'utf8');
const corpusText = (name: string) => readFileSync(CORPUS + name, 'utf8');

describe('an existing <cpu> is edited where it stands', () => {
  test('custom cpu: model, vendor, match and migratable (host-model does not allow it) go; topology and feature stay', () => {
    const input = fixtureText('custom-cpu-model-vendor-topology.xml');
    const { output, domain } = edit(input);
    expect(output).toBe(replaceOnce(input,
      "  <cpu mode='custom' match='exact' check='full' migratable='on'>\n" +
      "    <model fallback='allow'>Skylake</model>\n" +
      '    <vendor>Intel</vendor>\n',
      "  <cpu mode='host-model' check='partial'>\n"));
    expect(domain.cpu).toEqual({
      mode: 'host-model', check: 'partial', match: undefined, migratable: undefined, model: undefined, vendor: undefined,
      topology: { sockets: 1, dies: 1, clusters: undefined, cores: 2, threads: 2 },
      features: [{ name: 'x2apic', policy: 'require' }],
    });
    expect(domain.warnings).toEqual([]);
  });

  test('host-passthrough on the same cpu', () => {
    const input = fixtureText('custom-cpu-model-vendor-topology.xml');
    const { output, domain } = edit(input, 'host-passthrough');
    expect(output).toBe(replaceOnce(input,
      "  <cpu mode='custom' match='exact' check='full' migratable='on'>\n" +
      "    <model fallback='allow'>Skylake</model>\n" +
      '    <vendor>Intel</vendor>\n',
      "  <cpu mode='host-passthrough' check='partial' migratable='on'>\n"));
    expect(domain.warnings).toEqual([{
      code: 'host-passthrough-migration',
      message: 'host-passthrough ties guest "custom-cpu" to hosts with an identical CPU for migration; host-model does not',
    }]);
  });

  test('cache, numa and maxphysaddr children stay', () => {
    const input = fixtureText('custom-cpu-numa-cache-maxphysaddr.xml');
    expect(edit(input).output).toBe(replaceOnce(input,
      "  <cpu match='exact'>\n    <model>Haswell</model>\n",
      "  <cpu mode='host-model' check='partial'>\n"));
  });

  test('a cpu left with nothing inside collapses to <cpu …/>, as libvirt writes it', () => {
    const input = corpusText('graphics-spice-timeout.x86_64-latest.xml');
    expect(edit(input).output).toBe(replaceOnce(input,
      "<cpu mode='custom' match='exact' check='none'>\n    <model fallback='forbid'>qemu64</model>\n  </cpu>", HOST_MODEL));
  });

  test('spaces around = are kept on the attributes that stay', () => {
    const input = fixtureText('spaces-around-equals.xml');
    expect(edit(input).output).toBe(replaceOnce(input,
      "<cpu mode = 'custom'  match = 'exact' check='full' >\n    <model fallback = 'allow'>Haswell</model>\n  </cpu>",
      "<cpu mode = 'host-model' check='partial'/>"));
  });

  test('a cpu without attributes (corpus cpu-numa1) gets mode and check', () => {
    const input = corpusText('cpu-numa1.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '  <cpu>\n', "  <cpu mode='host-model' check='partial'>\n"));
  });

  test('<cpu …></cpu> keeps its form', () => {
    const input = fixtureText('empty-elements-both-forms.xml');
    expect(edit(input).output).toBe(replaceOnce(input, "<cpu mode='host-model'></cpu>", "<cpu mode='host-model' check='partial'></cpu>"));
  });

  test('host-passthrough with migratable (fixture with CDATA) keeps migratable; host-model drops it, as libvirt refuses it there', () => {
    const input = fixtureText('cdata-description.xml');
    expect(edit(input, 'host-passthrough').output)
      .toBe(replaceOnce(input, "<cpu mode='host-passthrough' check='none' migratable='on'/>", "<cpu mode='host-passthrough' check='partial' migratable='on'/>"));
    expect(edit(input, 'host-model').output)
      .toBe(replaceOnce(input, "<cpu mode='host-passthrough' check='none' migratable='on'/>", "<cpu mode='host-model' check='partial'/>"));
  });

  test.each([
    ["<cpu check='full' mode='custom' match='exact'/>", "<cpu check='partial' mode='host-model'/>"],
    ["<cpu match='exact' mode='custom'/>", "<cpu mode='host-model' check='partial'/>"],
    ["<cpu match='exact'/>", "<cpu mode='host-model' check='partial'/>"],
    ['<cpu/>', "<cpu mode='host-model' check='partial'/>"],
    ['<cpu />', "<cpu mode='host-model' check='partial' />"],
    ["<cpu mode='host-model' check='partial'/>", "<cpu mode='host-model' check='partial'/>"],
    ["<cpu mode='host-passthrough' migratable='off'/>", "<cpu mode='host-model' check='partial'/>"],
    ["<cpu\n    mode='custom'\n    match='minimum'\n    check='full'>\n    <model>EPYC</model>\n  </cpu>", "<cpu\n    mode='host-model'\n    check='partial'/>"],
    ["<cpu mode='custom'>\n    <!-- keep -->\n    <model>X</model>\n  </cpu>", "<cpu mode='host-model' check='partial'>\n    <!-- keep -->\n  </cpu>"],
    ["<cpu mode='custom'><model>X</model>\u00A0</cpu>", "<cpu mode='host-model' check='partial'>\u00A0</cpu>"],
    ["<cpu mode='custom'><vendor>AMD</vendor><model>X</model><feature name='svm'/></cpu>", "<cpu mode='host-model' check='partial'><feature name='svm'/></cpu>"],
    ['<cpu mode="custom" match="exact"><model>X</model></cpu>', '<cpu mode="host-model" check="partial"/>'],
    ["<cpu mode='custom' check='full'  ><model>X</model></cpu>", "<cpu mode='host-model' check='partial'/>"],
    ["<cpu mode='host&#45;model' check='partial'/>", "<cpu mode='host&#45;model' check='partial'/>"],
  ])('%j becomes %j', (cpu, expected) => {
    const input = `<domain type='kvm'>\n  <name>a</name>\n  ${cpu}\n</domain>\n`;
    expect(edit(input).output).toBe(`<domain type='kvm'>\n  <name>a</name>\n  ${expected}\n</domain>\n`);
  });

  test('new attributes take the quote of the cpu itself, else the document', () => {
    expect(edit(`<domain type="kvm"><cpu mode='custom'/></domain>`).output).toBe(`<domain type="kvm"><cpu mode='host-model' check='partial'/></domain>`);
    expect(edit('<domain type="kvm"><cpu></cpu></domain>').output).toBe('<domain type="kvm"><cpu mode="host-model" check="partial"></cpu></domain>');
  });

  test('options.check sets another check', () => {
    expect(edit("<domain><cpu mode='custom' check='partial'/></domain>", 'host-model', 'full').output)
      .toBe("<domain><cpu mode='host-model' check='full'/></domain>");
    expect(edit('<domain/>', 'host-passthrough', 'none').output).toBe("<domain><cpu mode='host-passthrough' check='none'/></domain>");
  });
});

describe('a missing <cpu> is inserted where libvirt writes it, in the document style', () => {
  test('CRLF, BOM and declaration: CRLF newline, all else kept', () => {
    const input = fixtureText('crlf-bom-declaration.xml');
    const { output } = edit(input);
    expect(output).toBe(replaceOnce(input, '  </features>\r\n', `  </features>\r\n  ${HOST_MODEL}\r\n`));
    expect(output.startsWith('\uFEFF<?xml version="1.0" encoding="UTF-8"?>\r\n')).toBe(true);
    expect(output.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  test('tabs and double quotes', () => {
    const input = fixtureText('tabs-double-quotes.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '\t</features>\n', '\t</features>\n\t<cpu mode="host-model" check="partial"/>\n'));
  });

  test('after <os>, and a commented-out <cpu> is left alone', () => {
    const input = fixtureText('commented-out-cpu.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '  </os>\n', `  </os>\n  ${HOST_MODEL}\n`));
  });

  test('a <cpu> inside <metadata> under a foreign namespace is left alone', () => {
    const input = fixtureText('metadata-foreign-cpu.xml');
    expect(edit(input, 'host-passthrough').output).toBe(replaceOnce(input, '  </os>\n', "  </os>\n  <cpu mode='host-passthrough' check='partial'/>\n"));
  });

  test('after <idmap> (lxc)', () => {
    const input = fixtureText('lxc.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '  </idmap>\n', `  </idmap>\n  ${HOST_MODEL}\n`));
  });

  test('after <features> (aarch64)', () => {
    const input = fixtureText('aarch64.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '  </features>\n', `  </features>\n  ${HOST_MODEL}\n`));
  });

  test('hand-ordered <clock> before <os>: after <os> wins', () => {
    const input = fixtureText('clock-before-os-hand-ordered.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '  </os>\n', `  </os>\n  ${HOST_MODEL}\n`));
  });

  test('a document on one line gets no newline', () => {
    const input = fixtureText('no-cpu-single-line.xml');
    expect(edit(input).output).toBe(replaceOnce(input, '</os><devices/>', `</os>${HOST_MODEL}<devices/>`));
  });

  test('the last of os/idmap/features, whatever their order', () => {
    expect(edit('<domain>\n  <features/>\n  <os/>\n  <memory>1</memory>\n</domain>').output)
      .toBe(`<domain>\n  <features/>\n  <os/>\n  ${HOST_MODEL}\n  <memory>1</memory>\n</domain>`);
  });

  test.each(['clock', 'on_poweroff', 'on_reboot', 'on_crash', 'on_lockfailure', 'pm', 'perf', 'devices'])('without os/idmap/features: before <%s>', (name) => {
    expect(edit(`<domain>\n  <name>a</name>\n  <${name}/>\n  <seclabel/>\n</domain>\n`).output)
      .toBe(`<domain>\n  <name>a</name>\n  ${HOST_MODEL}\n  <${name}/>\n  <seclabel/>\n</domain>\n`);
  });

  test('before the first of clock/on_*/pm/perf/devices', () => {
    expect(edit('<domain>\n    <devices/>\n    <clock/>\n</domain>').output)
      .toBe(`<domain>\n    ${HOST_MODEL}\n    <devices/>\n    <clock/>\n</domain>`);
  });

  test('otherwise before </domain>, after the last child', () => {
    expect(edit('<domain>\n  <name>a</name>\n  <vcpu>1</vcpu>\n</domain>').output)
      .toBe(`<domain>\n  <name>a</name>\n  <vcpu>1</vcpu>\n  ${HOST_MODEL}\n</domain>`);
    expect(edit('<domain>\r\n\t<name>a</name>\r\n</domain>\r\n').output)
      .toBe(`<domain>\r\n\t<name>a</name>\r\n\t${HOST_MODEL}\r\n</domain>\r\n`);
  });

  test('an empty <domain>', () => {
    expect(edit('<domain>\n</domain>\n').output).toBe(`<domain>\n  ${HOST_MODEL}\n</domain>\n`);
    expect(edit('<domain></domain>').output).toBe(`<domain>${HOST_MODEL}</domain>`);
    expect(edit('<domain><!-- empty --></domain>').output).toBe(`<domain><!-- empty -->${HOST_MODEL}</domain>`);
  });

  test('a self-closing <domain/>', () => {
    expect(edit('<domain/>').output).toBe(`<domain>${HOST_MODEL}</domain>`);
    expect(edit('<domain type="kvm" />\n').output).toBe('<domain type="kvm"><cpu mode="host-model" check="partial"/></domain>\n');
  });
});

describe('warnings, never errors', () => {
  test('vmx disabled: the feature stays, and a warning says so', () => {
    const input = fixtureText('vmx-disabled.xml');
    const { output, domain } = edit(input);
    expect(output).toBe(replaceOnce(input,
      "  <cpu mode='custom' match='exact'>\n    <model fallback='forbid'>qemu64</model>\n",
      "  <cpu mode='host-model' check='partial'>\n"));
    expect(domain.cpu?.features).toEqual([{ name: 'vmx', policy: 'disable' }]);
    expect(domain.warnings).toEqual([{
      code: 'nested-feature-disabled',
      message: `guest "vmx-disabled" has <feature policy='disable' name='vmx'/>, which hides vmx from the guest and defeats nesting; remove it`,
    }]);
  });

  test('svm forbidden, host-passthrough: both warnings', () => {
    const input = fixtureText('svm-forbid.xml');
    const { output, domain } = edit(input, 'host-passthrough');
    expect(output).toBe(replaceOnce(input, "<cpu mode='host-passthrough' check='none'>", "<cpu mode='host-passthrough' check='partial'>"));
    expect(output).toContain("    <feature policy='forbid' name='svm'/>\n");
    expect(domain.warnings.map((w) => w.code)).toEqual(['nested-feature-disabled', 'host-passthrough-migration']);
    expect(domain.warnings[0]?.message)
      .toBe(`guest "svm-forbid" has <feature policy='forbid' name='svm'/>, which hides svm from the guest and defeats nesting; remove it`);
  });

  test.each([
    ['aarch64.xml', FIXTURES, 'guest "arm" is aarch64: nested virtualization with vmx/svm is supported only on x86'],
    ['default-video-type-ppc64.ppc64-latest.xml', CORPUS, 'guest "default-video-type-ppc64-test" is ppc64: nested virtualization with vmx/svm is supported only on x86'],
    ['default-video-type-s390x.s390x-latest.xml', CORPUS, 'guest "default-video-type-s390x-test" is s390x: nested virtualization with vmx/svm is supported only on x86'],
  ])('%s: arch-not-x86 is a warning', (name, dir, message) => {
    const { domain } = edit(readFileSync(dir + name, 'utf8'));
    expect(domain.cpu?.mode).toBe('host-model');
    expect(domain.warnings).toEqual([{ code: 'arch-not-x86', message }]);
  });

  test('an s390x guest already in host-model/partial is returned byte for byte', () => {
    const input = corpusText('default-video-type-s390x.s390x-latest.xml');
    expect(edit(input).output).toBe(input);
  });

  test('lxc: driver-not-kvm is a warning', () => {
    expect(edit(fixtureText('lxc.xml')).domain.warnings).toEqual([{
      code: 'driver-not-kvm',
      message: `guest "container" has domain type 'lxc', not 'kvm': the guest's hypervisors will run without hardware acceleration`,
    }]);
  });

  test('a domain without a name is "the guest"', () => {
    expect(edit("<domain type='kvm'><os><type arch='ppc64le'>hvm</type></os></domain>").domain.warnings).toEqual([{
      code: 'arch-not-x86', message: 'the guest is ppc64le: nested virtualization with vmx/svm is supported only on x86',
    }]);
  });
});

describe('the contract of the function', () => {
  test.each(['custom', 'host_model', '', 'maximum'])('mode %j is a USAGE error', (mode) => {
    const domain = parseDomain('<domain/>');
    let error: unknown;
    try {
      setCpuMode(domain, mode as CpuMode);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VirtNestedError);
    expect((error as VirtNestedError).code).toBe('USAGE');
    expect((error as VirtNestedError).message).toBe(`the CPU mode must be host-model or host-passthrough, not ${JSON.stringify(mode)}`);
  });

  test('a bad check is a USAGE error', () => {
    expect(() => setCpuMode(parseDomain('<domain/>'), 'host-model', { check: 'strict' as CpuCheck }))
      .toThrow(new VirtNestedError('USAGE', 'check must be none, partial or full, not "strict"'));
  });

  test('the argument is not changed, the result is a new frozen Domain', () => {
    const input = fixtureText('custom-cpu-model-vendor-topology.xml');
    const original = parseDomain(input);
    const snapshot = JSON.stringify(original);
    const next = setCpuMode(original, 'host-model');
    expect(next).not.toBe(original);
    expect(serializeDomain(original)).toBe(input);
    expect(JSON.stringify(original)).toBe(snapshot);
    expect(original.cpu?.mode).toBe('custom');
    expect(Object.isFrozen(next)).toBe(true);
    expect(Object.isFrozen(next.cpu)).toBe(true);
    expect(Object.isFrozen(next.warnings)).toBe(true);
    expect(() => { (next as unknown as Record<string, unknown>).warnings = []; }).toThrow(TypeError);
  });

  test('every fixture: idempotent in both modes, and host-passthrough then host-model equals host-model', () => {
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml'));
    for (const name of names) {
      const domain = parseDomain(fixtureText(name));
      for (const mode of ['host-model', 'host-passthrough'] as const) {
        const once = setCpuMode(domain, mode);
        expect([name, serializeDomain(setCpuMode(once, mode))]).toEqual([name, serializeDomain(once)]);
      }
      expect([name, serializeDomain(setCpuMode(setCpuMode(domain, 'host-passthrough'), 'host-model'))])
        .toEqual([name, serializeDomain(setCpuMode(domain, 'host-model'))]);
    }
  });
});
