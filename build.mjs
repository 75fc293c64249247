// Build: the library with tsc (ESM + declarations, for `exports`), the CLI as one bundled file with
// lazily loaded chunks (for `bin`): start-up time is a feature of a CLI.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync, readFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
await build({
  entryPoints: { cli: 'src/cli/bin.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __vnCreateRequire } from 'node:module';\nconst require = __vnCreateRequire(import.meta.url);" },
  define: { VIRT_NESTED_VERSION: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
