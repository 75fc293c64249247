import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtNestedError } from '../../src/errors.js';
import { DEFAULT_SCHEMA_DIR, loadDomainSchema, type DomainSchema } from '../../src/lint/schema.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CORPUS = join(REPO, 'fixtures', 'libvirt-9.0.0', 'domains');
const MINIMAL = readFileSync(join(CORPUS, 'minimal.xml'), 'utf8');

/** A valid domain of five lines, for edits whose line we assert. */
const SMALL = "<domain type='qemu'>\n  <name>a</name>\n  <memory>1024</memory>\n  <os><type>hvm</type></os>\n</domain>\n";

let schema: DomainSchema;
let scratch: string;

beforeAll(async () => {
  const loaded = await loadDomainSchema();
  if (loaded === undefined) throw new Error(`libvirt's schemas are missing from ${DEFAULT_SCHEMA_DIR}; install libvirt0`);
  schema = loaded;
  scratch = mkdtempSync(join(tmpdir(), 'virt-nested-schema-'));
});

afterAll(() => {
  schema?.dispose();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** libvirt's own verdict: `virt-xml-validate FILE domain` exits 0 when the file is valid. */
function virtXmlValidate(file: string): Promise<{ valid: boolean; exitCode: number; output: string }> {
  return new Promise((done, fail) => {
    execFile('virt-xml-validate', [file, 'domain'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        fail(new Error(`virt-xml-validate could not run on ${file} (${error.message}); install libvirt-clients`));
        return;
      }
      const exitCode = error ? (error.code as number) : 0;
      done({ valid: exitCode === 0, exitCode, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** Runs `work` over `items` with at most `limit` running at once, keeping the order of `items`. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Files whose verdict differs between `schema.validate` and virt-xml-validate, each with both sides' words. */
async function disagreements(files: readonly string[]): Promise<{ disagree: string[]; rejectedByLibvirt: number }> {
  const theirs = await mapLimited(files, 2, virtXmlValidate);
  const disagree: string[] = [];
  files.forEach((file, i) => {
    const libvirt = theirs[i]!;
    const ours = schema.validate(readFileSync(file, 'utf8'));
    if (libvirt.valid !== (ours.length === 0)) {
      disagree.push(`${file}: virt-xml-validate exit ${libvirt.exitCode} (${libvirt.output}); ours ${JSON.stringify(ours)}`);
    }
  });
  return { disagree, rejectedByLibvirt: theirs.filter((verdict) => !verdict.valid).length };
}

describe('agreement with virt-xml-validate', () => {
  test('every file of libvirt 9.0.0\'s domain corpus gets the same verdict as virt-xml-validate FILE domain', async () => {
    const files = readdirSync(CORPUS).filter((name) => name.endsWith('.xml')).sort().map((name) => join(CORPUS, name));
    expect(files).toHaveLength(486);
    const { disagree, rejectedByLibvirt } = await disagreements(files);
    expect(disagree.join('\n')).toBe('');
    // libvirt's corpus holds exactly one file its schema rejects; if that changes, so must this proof.
    expect(rejectedByLibvirt).toBe(1);
    expect(schema.validate(readFileSync(join(CORPUS, 'pci-rom-disabled-invalid.xml'), 'utf8'))).toEqual([
      { line: 15, column: 1, message: 'Extra element devices in interleave', path: '/domain/devices' },
      { line: 15, column: 1, message: 'Element domain failed to validate content', path: '/domain/devices' },
    ]);
  }, 150_000);

  test('hand-made breakages of a corpus file get the same verdict as virt-xml-validate', async () => {
    const mutants: Record<string, string> = {
      'type-nonsense': MINIMAL.replace("<domain type='qemu'>", "<domain type='nonsense'>"),
      'cpu-mode-bogus': MINIMAL.replace('  <clock', "  <cpu mode='bogus'/>\n  <clock"),
      'cpu-check-bogus': MINIMAL.replace('  <clock', "  <cpu mode='host-model' check='sometimes'/>\n  <clock"),
      'cpu-host-model-partial': MINIMAL.replace('  <clock', "  <cpu mode='host-model' check='partial'/>\n  <clock"),
      'cpu-host-passthrough-partial': MINIMAL.replace('  <clock', "  <cpu mode='host-passthrough' check='partial' migratable='on'/>\n  <clock"),
      'cpu-feature-disable-svm': MINIMAL.replace('  <clock', "  <cpu mode='host-model' check='partial'>\n    <feature policy='disable' name='svm'/>\n  </cpu>\n  <clock"),
      'cpu-feature-policy-bogus': MINIMAL.replace('  <clock', "  <cpu mode='host-model'>\n    <feature policy='maybe' name='svm'/>\n  </cpu>\n  <clock"),
      'memory-unit-bogus': MINIMAL.replace("<memory unit='KiB'>", "<memory unit='parsecs'>"),
      'vcpu-not-a-number': MINIMAL.replace("cpuset='1-4,8-20,525'>1</vcpu>", "cpuset='1-4,8-20,525'>many</vcpu>"),
      'on-poweroff-bogus': MINIMAL.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>explode</on_poweroff>'),
      'unknown-device': MINIMAL.replace('    <memballoon', '    <toaster/>\n    <memballoon'),
      'name-missing': MINIMAL.replace('  <name>QEMUGuest1</name>\n', ''),
      'metadata-foreign-namespace': MINIMAL.replace('  <memory', "  <metadata>\n    <app:x xmlns:app='http://example.org/app'>1</app:x>\n  </metadata>\n  <memory"),
      'not-well-formed': MINIMAL.replace('</devices>', '</device>'),
    };
    const dir = join(scratch, 'mutants');
    mkdirSync(dir);
    const files = Object.entries(mutants).map(([name, text]) => {
      expect(text).not.toBe(MINIMAL); // each mutation applied
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, text);
      return file;
    });
    const { disagree, rejectedByLibvirt } = await disagreements(files);
    expect(disagree.join('\n')).toBe('');
    expect(rejectedByLibvirt).toBe(10); // all but the three host-model/host-passthrough ones and <metadata>
  }, 60_000);
});

describe('DomainSchema.validate', () => {
  test('a valid small domain gives no problems', () => {
    expect(schema.validate(SMALL)).toEqual([]);
  });

  test('a bogus cpu mode is blamed on its own line, in libxml2\'s words', () => {
    const xml = SMALL.replace('</domain>', "  <cpu mode='bogus'/>\n</domain>");
    expect(schema.validate(xml)).toEqual([
      { line: 5, column: 1, message: 'Extra element cpu in interleave', path: '/domain/cpu' },
      { line: 5, column: 1, message: 'Element domain failed to validate content', path: '/domain/cpu' },
    ]);
  });

  test('an unknown domain type fails on the <domain> line', () => {
    const xml = `\n\n${SMALL.replace("type='qemu'", "type='nonsense'")}`;
    expect(schema.validate(xml)).toEqual([{ line: 3, column: 1, message: 'Element domain failed to validate content', path: '/domain' }]);
  });

  test('lines past 65535 are libxml2\'s, as xmllint prints them', () => {
    // <cpu/> stands on line 70005; past 65535 libxml2 takes an empty element's line from the text after it,
    // and virt-xml-validate says "big.xml:70006: element cpu: ..." for this very document.
    const xml = SMALL.replace('<domain', `${'\n'.repeat(70_000)}<domain`).replace('</domain>', "  <cpu mode='bogus'/>\n</domain>");
    expect(schema.validate(xml).map((problem) => [problem.line, problem.path])).toEqual([[70_006, '/domain/cpu'], [70_006, '/domain/cpu']]);
  });

  test('XML that is not well-formed gives libxml2\'s parse error with its column', () => {
    expect(schema.validate("<domain type='qemu'>\n  <name>a</name\n</domain>")).toEqual([
      { line: 3, column: 1, message: "expected '>'" },
    ]);
  });

  test('an empty string is a problem, never a pass', () => {
    // libxml2 gives no diagnostic for empty input; the words are libxml2-wasm's.
    expect(schema.validate('')).toEqual([{ line: 1, column: 1, message: 'Failed to parse XML' }]);
  });

  test('the string is taken as already decoded, whatever its XML declaration says', () => {
    expect(schema.validate(`<?xml version='1.0' encoding='ISO-8859-1'?>\n${SMALL.replace('<name>a</name>', '<name>été</name>')}`)).toEqual([]);
  });

  test('an external DTD is never read (virt-xml-validate would read it: the lint rule doctype-forbidden covers this)', () => {
    const dtd = join(scratch, 'not-a-dtd.txt');
    writeFileSync(dtd, 'this is not a DTD\n');
    expect(schema.validate(`<!DOCTYPE domain SYSTEM "${dtd}">\n${SMALL}`)).toEqual([]);
  });

  test('entities are never expanded, so an entity in <name> leaves it empty', () => {
    const xml = `<!DOCTYPE domain [<!ENTITY n "guest">]>\n${SMALL.replace('<name>a</name>', '<name>&n;</name>')}`;
    expect(schema.validate(xml)).toEqual([
      { line: 3, column: 1, message: 'Error validating datatype string', path: '/domain/name' },
      { line: 3, column: 1, message: 'Element name failed to validate content', path: '/domain/name' },
    ]);
  });

  test('a schema loaded once validates many documents, even after its files are gone', async () => {
    const dir = join(scratch, 'copied-schemas');
    cpSync(DEFAULT_SCHEMA_DIR, dir, { recursive: true });
    const copy = await loadDomainSchema(dir);
    rmSync(dir, { recursive: true });
    try {
      expect(copy?.dir).toBe(dir);
      const bogus = SMALL.replace('</domain>', "  <cpu mode='bogus'/>\n</domain>");
      for (let i = 0; i < 200; i++) {
        expect(copy!.validate(SMALL)).toEqual([]);
        expect(copy!.validate(bogus)).toHaveLength(2);
      }
    } finally {
      copy?.dispose();
    }
  });

  test('after dispose, validate throws a USAGE error and dispose may be called again', async () => {
    const own = (await loadDomainSchema())!;
    own.dispose();
    own.dispose();
    expect(() => own.validate(SMALL)).toThrow(
      new VirtNestedError('USAGE', `the domain schema from ${DEFAULT_SCHEMA_DIR} was disposed; load it again with loadDomainSchema().`),
    );
  });
});

describe('loadDomainSchema', () => {
  test('a directory that does not exist gives undefined', async () => {
    await expect(loadDomainSchema(join(scratch, 'no-such-dir'))).resolves.toBeUndefined();
  });

  test('a directory without domain.rng gives undefined', async () => {
    const dir = join(scratch, 'empty');
    mkdirSync(dir);
    await expect(loadDomainSchema(dir)).resolves.toBeUndefined();
  });

  test('a schema that libxml2 cannot compile is a USAGE error naming the file', async () => {
    const dir = join(scratch, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'domain.rng'), '<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start><ref name="nope"/></start></grammar>\n');
    const error = await loadDomainSchema(dir).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(VirtNestedError);
    expect((error as VirtNestedError).code).toBe('USAGE');
    expect((error as VirtNestedError).message).toBe(
      `libvirt's schema ${join(dir, 'domain.rng')} cannot be compiled (Reference nope has no matching definition); reinstall libvirt0 or pass a --schema-dir that holds an intact domain.rng.`,
    );
  });

  test('an include that leaves the directory is not read', async () => {
    const dir = join(scratch, 'escape', 'inner');
    mkdirSync(dir, { recursive: true });
    cpSync(DEFAULT_SCHEMA_DIR, join(scratch, 'escape'), { recursive: true });
    writeFileSync(join(dir, 'domain.rng'), readFileSync(join(DEFAULT_SCHEMA_DIR, 'domain.rng'), 'utf8').replace('href="domainoverrides.rng"', 'href="../domainoverrides.rng"'));
    await expect(loadDomainSchema(dir)).rejects.toThrow(
      `libvirt's schema ${join(dir, 'domain.rng')} cannot be compiled (xmlRelaxNG: could not load ${join(scratch, 'escape', 'domainoverrides.rng')}); reinstall libvirt0 or pass a --schema-dir that holds an intact domain.rng.`,
    );
  });

  test('a symbolic link that points out of the directory is not followed', async () => {
    const dir = join(scratch, 'linked');
    mkdirSync(dir);
    cpSync(join(DEFAULT_SCHEMA_DIR, 'domain.rng'), join(dir, 'domain.rng'));
    symlinkSync(join(DEFAULT_SCHEMA_DIR, 'domainoverrides.rng'), join(dir, 'domainoverrides.rng'));
    await expect(loadDomainSchema(dir)).rejects.toThrow(`could not load ${join(dir, 'domainoverrides.rng')}`);
  });

  test('a directory whose name holds a space loads its includes', async () => {
    const dir = join(scratch, 'my schemas');
    cpSync(DEFAULT_SCHEMA_DIR, dir, { recursive: true });
    const spaced = await loadDomainSchema(dir);
    try {
      expect(spaced?.validate(SMALL)).toEqual([]);
    } finally {
      spaced?.dispose();
    }
  });
});
