// Build:
// - the library in dist/lib (package.json `exports`): tsc writes the declarations; esbuild writes the
//   code, an ES module for the public index and for each module the CLI imports (at its path in src/),
//   with the code they share, the dependencies included, in dist/lib/chunks. Loading execa as its 140
//   separate modules cost about 250 ms of CPU at every start of the CLI; one chunk costs a tenth of that.
//   A CommonJS entry beside them serves `require`;
// - the CLI in dist/cli: minified ES modules, one chunk per command (loaded when that command runs), with
//   source maps for `--debug` (without the sources, to keep the package small). They import the library
//   from dist/lib, so there is one copy of it (one VirtNestedError class), and bundle what only the CLI
//   uses (commander, diff);
// - the executable, dist/cli.cjs (package.json `bin`), which starts the CLI (see src/cli/bin.ts), with its
//   executable bit set: npm sets it on install, but not in this working tree.
// No dependency is both bundled and installed: what the library or the CLI bundles is a devDependency, and
// what stays external (libxml2-wasm, an ES module with a top-level await and a WebAssembly file) is a
// dependency. The build fails otherwise.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const SRC = resolve('src');
const CLI_SRC = resolve('src/cli');
const INSTALLED = Object.keys(pkg.dependencies ?? {});

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

/**
 * Fails the build when a bundle holds a package that a user's install also gets: one that package-lock.json
 * does not mark `dev` (a dependency, or a package a dependency needs).
 */
function checkBundled(what, metafile) {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
  const bundled = new Set(Object.keys(metafile.inputs)
    .map((input) => /(?:^|\/)(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1])
    .filter((path) => path !== undefined));
  for (const path of bundled) {
    if (lock.packages[path]?.dev !== true) {
      throw new Error(`build: ${what} bundles ${path.slice('node_modules/'.length)}, which users install too: make it a devDependency, or leave it external`);
    }
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  external: INSTALLED,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // CommonJS dependencies (commander, cross-spawn under execa) call require(): give these ES modules one
  banner: { js: "import { createRequire as createRequireForCommonJs } from 'node:module'; const require = createRequireForCommonJs(import.meta.url);" },
};

/** The library's modules that the CLI imports: entries of the library's build, so dist/lib has them. */
const libraryEntries = new Set(['src/index.ts']);

/** Imports from src/cli of the library's own modules: left to dist/lib, which the package ships anyway. */
const libraryFromDist = {
  name: 'library-from-dist',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.?\// }, ({ path, importer }) => {
      const target = resolve(dirname(importer), path);
      if (!importer.startsWith(CLI_SRC + sep) || target.startsWith(CLI_SRC + sep)) return undefined;
      const module = relative(SRC, target).split(sep).join('/');
      libraryEntries.add(`src/${module.replace(/\.js$/, '.ts')}`);
      return { path: `../lib/${module}`, external: true };
    });
  },
};

const define = { VIRT_NESTED_VERSION: JSON.stringify(pkg.version) };
const cli = await build({
  ...common,
  entryPoints: { bundle: 'src/cli/bundle.ts' },
  outdir: 'dist/cli',
  chunkNames: '[name]-[hash]',
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  define,
  plugins: [libraryFromDist],
});
checkBundled('the CLI', cli.metafile);

const library = await build({
  ...common,
  // the public entry and what the CLI imports; code they share goes to chunks, so a command loads few files
  entryPoints: [...libraryEntries].filter((entry) => existsSync(entry)),
  outbase: 'src',
  outdir: 'dist/lib',
  chunkNames: 'chunks/[name]-[hash]',
  // minified (the bundled execa is most of it) with the names kept, so a user's stack trace still reads
  // `applyCpuMode`: the package stays well under 300 kB packed
  minify: true,
  keepNames: true,
});
checkBundled('the library', library.metafile);
// require('virt-nested'): the same ES modules, loaded by Node's require(esm) (Node 20.19 and later), so a
// program that both imports and requires the package gets one copy of it (one VirtNestedError class)
writeFileSync('dist/lib/index.cjs', "'use strict';\nmodule.exports = require('./index.js');\n");
writeFileSync('dist/lib/index.d.cts', "export * from './index.js';\n");

/**
 * Removes the declarations that no public declaration reaches (internal modules): tsc writes one per
 * module, and the package ships only what `index.d.ts` needs, to stay small.
 */
function pruneDeclarations(root) {
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file) || !existsSync(file)) return;
    reached.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(resolve(dirname(file), spec.replace(/\.js$/, '.d.ts')));
    }
  };
  visit(resolve(root, 'index.d.ts'));
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.d.ts') && !reached.has(path)) rmSync(path);
    }
  };
  walk(root);
}
pruneDeclarations(resolve('dist/lib'));

await build({
  ...common,
  entryPoints: { cli: 'src/cli/bin.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  splitting: false,
  minify: true,
  define,
  banner: { js: '#!/usr/bin/env node' },
  plugins: [{
    name: 'cli-entry',
    setup(builder) {
      builder.onResolve({ filter: /^\.\/bundle\.js$/ }, () => ({ path: './cli/bundle.js', external: true }));
    },
  }],
});
chmodSync(pkg.bin['virt-nested'], 0o755);
