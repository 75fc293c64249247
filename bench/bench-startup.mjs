// Start-up: `virt-nested --version` vs `node -e 0`, median of 15 runs each (without NODE_EXTRA_CA_CERTS,
// see measure.mjs); and a small lint, which loads the CLI and the library.
import { spawnSync } from 'node:child_process';
import { CLI, ROOT, median, report } from './measure.mjs';

const time = (args) => { const t0 = process.hrtime.bigint(); spawnSync(process.execPath, args, { stdio: 'ignore' }); return Number(process.hrtime.bigint() - t0) / 1e6; };
const bare = [], ours = [], lint = [];
for (let i = 0; i < 15; i++) {
  bare.push(time(['-e', '0']));
  ours.push(time([CLI, '--version']));
  lint.push(time([CLI, 'lint', '--no-schema', `${ROOT}fixtures/lint/good-host-model.xml`]));
}
report('start-up', [
  `node -e 0:                          ${median(bare).toFixed(1)} ms`,
  `virt-nested --version:              ${median(ours).toFixed(1)} ms (ratio ${(median(ours) / median(bare)).toFixed(2)}, goal <= 1.25)`,
  `virt-nested lint (1 file, no schema): ${median(lint).toFixed(1)} ms`,
]);
