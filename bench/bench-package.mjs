// The package a user downloads: `npm pack --dry-run` of the build (scripts skipped: `npm run bench` has
// just built it), its packed and unpacked size against the 300 kB limit, and how many files it holds.
import { spawnSync } from 'node:child_process';
import { ROOT, report } from './measure.mjs';

const LIMIT = 300 * 1024;
const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
if (r.status !== 0) {
  report('package', [`npm pack failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop()}`]);
  process.exit(1);
}
const [{ size, unpackedSize, entryCount, files }] = JSON.parse(r.stdout);
if (!files.some((f) => f.path === 'dist/cli.cjs')) {
  report('package', ['dist/ is missing or half-built: run npm run build first (npm run bench does)']);
  process.exit(1);
}
const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
const largest = [...files].sort((a, b) => b.size - a.size).slice(0, 3).map((f) => `${f.path} ${kB(f.size)}`).join(', ');
report('package', [
  `npm pack: ${kB(size)} packed (limit ${kB(LIMIT)}), ${kB(unpackedSize)} unpacked, ${entryCount} files`,
  `largest files: ${largest}`,
]);
if (size >= LIMIT) process.exitCode = 1;
