// Build:
// - the library with tsc: ES modules and declarations in dist/lib (package.json `exports`), and a CommonJS
//   entry beside them for `require`;
// - the CLI with esbuild: minified ES modules in dist/cli (one chunk per command, loaded when that command
//   runs), with source maps for `--debug` (without the sources, to keep the package small). The CLI imports
//   the library from dist/lib and the package's dependencies from node_modules; it bundles only what no
//   one else uses (commander, diff), which are therefore devDependencies: no dependency is both bundled and
//   installed;
// - the executable, dist/cli.cjs (package.json `bin`), which starts the CLI (see src/cli/bin.ts), with its
//   executable bit set: npm sets it on install, but not in this working tree.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const SRC = resolve('src');
const CLI_SRC = resolve('src/cli');

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// require('virt-nested'): the same ES modules, loaded by Node's require(esm) (Node 20.19 and later), so a
// program that both imports and requires the package gets one copy of it (one VirtNestedError class)
writeFileSync('dist/lib/index.cjs', "'use strict';\nmodule.exports = require('./index.js');\n");
writeFileSync('dist/lib/index.d.cts', "export * from './index.js';\n");

/** Imports from src/cli of the library's own modules: left to dist/lib, which the package ships anyway. */
const libraryFromDist = {
  name: 'library-from-dist',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.?\// }, ({ path, importer }) => {
      const target = resolve(dirname(importer), path);
      if (!importer.startsWith(CLI_SRC + sep) || target.startsWith(CLI_SRC + sep)) return undefined;
      return { path: `../lib/${relative(SRC, target).split(sep).join('/')}`, external: true };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { VIRT_NESTED_VERSION: JSON.stringify(pkg.version) },
};

const cli = await build({
  ...common,
  entryPoints: { bundle: 'src/cli/bundle.ts' },
  outdir: 'dist/cli',
  format: 'esm',
  splitting: true,
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  external: Object.keys(pkg.dependencies ?? {}),
  plugins: [libraryFromDist],
  // commander is CommonJS: its require('node:events') needs a require in these ES modules
  banner: { js: "import { createRequire as createRequireForCommonJs } from 'node:module'; const require = createRequireForCommonJs(import.meta.url);" },
  metafile: true,
});

// what went into the bundle from node_modules must not be installed as well
const bundled = new Set(Object.keys(cli.metafile.inputs)
  .map((input) => /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1])
  .filter((name) => name !== undefined));
for (const name of bundled) {
  if (pkg.dependencies?.[name] || !pkg.devDependencies?.[name]) {
    throw new Error(`build: the CLI bundles ${name}, so it must be a devDependency only (it is installed for no one else)`);
  }
}

await build({
  ...common,
  entryPoints: { cli: 'src/cli/bin.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [{
    name: 'cli-entry',
    setup(builder) {
      builder.onResolve({ filter: /^\.\/bundle\.js$/ }, () => ({ path: './cli/bundle.js', external: true }));
    },
  }],
});
chmodSync(pkg.bin['virt-nested'], 0o755);
