// Build: the library with tsc (ESM + declarations, for `exports`); the CLI as one CommonJS bundle,
// dist/cli-bundle.cjs, run by the launcher that package.json's `bin` names, dist/cli.cjs; and the V8 code
// cache the launcher compiles the bundle from, dist/cli-bundle.cache, made after training runs of the CLI
// so that it holds the code they ran (see src/cli/bin.ts). Start-up time is a feature of a CLI.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const common = {
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // ESM with a top-level await: imported at run time through the launcher (src/lint/import-libxml2.ts)
  external: ['libxml2-wasm'],
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { 'cli-bundle': 'src/cli/bundle.ts' }, define: { VIRT_NESTED_VERSION: JSON.stringify(version) } });
await build({ ...common, entryPoints: { cli: 'src/cli/bin.ts' }, banner: { js: '#!/usr/bin/env node' } });

/** What `virsh domcapabilities` prints for a TCG guest, shortened: set-cpu reads one for each guest type. */
const DOMCAPABILITIES = `<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>qemu</domain>
  <machine>pc-i440fx-7.2</machine>
  <arch>x86_64</arch>
  <vcpu max='255'/>
  <os supported='yes'>
    <enum name='firmware'/>
    <loader supported='yes'>
      <enum name='type'>
        <value>rom</value>
        <value>pflash</value>
      </enum>
    </loader>
  </os>
  <cpu>
    <mode name='host-passthrough' supported='no'/>
    <mode name='maximum' supported='yes'>
      <enum name='maximumMigratable'>
        <value>on</value>
        <value>off</value>
      </enum>
    </mode>
    <mode name='host-model' supported='yes'>
      <model fallback='forbid'>EPYC</model>
      <vendor>AMD</vendor>
      <feature policy='require' name='hypervisor'/>
      <feature policy='disable' name='svm'/>
    </mode>
    <mode name='custom' supported='yes'>
      <model usable='yes' vendor='Intel'>qemu64</model>
      <model usable='no' vendor='AMD'>EPYC</model>
    </mode>
  </cpu>
  <devices>
    <disk supported='yes'>
      <enum name='diskDevice'>
        <value>disk</value>
        <value>cdrom</value>
      </enum>
    </disk>
  </devices>
  <features>
    <gic supported='no'/>
    <sev supported='no'/>
  </features>
</domainCapabilities>
`;

/**
 * Runs the CLI in this process on the work a user gives it most (set-cpu on a file, and on a guest of
 * libvirt's test driver, which keeps nothing once the connection closes), with its output thrown away,
 * reads a domcapabilities document as set-cpu does, then writes the code cache of every function that
 * ran. Without virsh the second run fails at once; the cache then holds less, and the CLI is only
 * slower to start.
 */
async function makeCodeCache() {
  const require = createRequire(import.meta.url);
  const { loadBundle, writeCodeCache } = require('./dist/cli.cjs');
  const loaded = loadBundle({ useCache: false });
  const dir = mkdtempSync(join(tmpdir(), 'virt-nested-build-'));
  try {
    const domain = "<domain type='kvm'>\n  <name>vn-train</name>\n  <memory unit='MiB'>48</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n  <devices>\n  </devices>\n</domain>\n";
    writeFileSync(join(dir, 'domain.xml'), domain);
    writeFileSync(join(dir, 'node.xml'), `<node>\n${domain
      .replace("type='kvm'", "type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'")
      .replace('</domain>', '  <test:runstate>5</test:runstate>\n</domain>')}</node>\n`);
    const io = {
      stdout: () => undefined,
      stderr: () => undefined,
      env: { ...process.env, VIRT_NESTED_BACKUP_DIR: join(dir, 'backups') },
      isTTY: false,
      stderrIsTTY: false,
    };
    await loaded.bundle.main(['set-cpu', '--file', join(dir, 'domain.xml'), '--mode', 'host-model', '--diff'], io);
    await loaded.bundle.main(['set-cpu', 'vn-train', '--mode', 'host-model', '-c', `test://${join(dir, 'node.xml')}`], io);
    loaded.bundle.cpuModesSupported(DOMCAPABILITIES);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeCodeCache(loaded);
}

await makeCodeCache();
