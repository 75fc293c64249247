/**
 * The README's facts that no snippet runs: the set-up commands, the backup directories, the exit
 * codes and the engines line agree with the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBackupDir, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../../src/index.js';
import { ROOT, runCli } from '../e2e/run-cli.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};

test('the set-up: two commands, the main job and the tests; and how virt-nested gets on PATH', () => {
  const setUp = section('Set up');
  const blocks = [...setUp.matchAll(/```sh\n([^]*?)```/g)].map((m) => m[1]);
  expect(blocks).toEqual([
    'npm install && npx virt-nested set-cpu --file fixtures/lint/cpu-missing.xml --mode host-model --diff\n',
    'sudo .ci/run\n',
    'npm test -- __tests__/cpu\n',
    'sudo npm install -g .\n',
  ]);
  expect(setUp).toMatch(/libvirtd/);
  expect(setUp).toContain('`sudo virt-nested enable-host`');
});

test('the backup directories are the ones defaultBackupDir picks, in its order', () => {
  const backups = section('Backups');
  expect(defaultBackupDir({ VIRT_NESTED_BACKUP_DIR: '/srv/b', XDG_STATE_HOME: '/s' }, 0)).toBe('/srv/b');
  expect(defaultBackupDir({}, 0)).toBe('/var/lib/virt-nested/backups');
  expect(defaultBackupDir({ XDG_STATE_HOME: '/s' }, 1000)).toBe('/s/virt-nested/backups');
  const order = ['`$VIRT_NESTED_BACKUP_DIR`', '`/var/lib/virt-nested/backups` when running as root', '`$XDG_STATE_HOME/virt-nested/backups`'].map((s) => backups.indexOf(s));
  expect(order.every((at) => at > -1)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
});

test('the exit codes are the CLI\'s', () => {
  expect([EXIT_OK, EXIT_FAILED, EXIT_USAGE]).toEqual([0, 1, 2]);
  const table = section('Exit codes');
  expect(table).toContain('| 0 | success');
  expect(table).toContain('| 1 | a check failed or a change was refused |');
  expect(table).toContain('| 2 | usage or input error, or libvirt cannot be reached |');
  expect(runCli(['--help']).stdout).toContain('Exit codes: 0 success, 1 a check failed or a change was refused, 2 usage, input or connection error.');
  for (const command of ['set-cpu', 'lint', 'check-host', 'enable-host', 'check-guest']) expect(table).toContain(`| \`${command}`);
});

test('the Node version the README asks for is the one package.json states', () => {
  const { engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  expect(engines.node).toBe('>=20.5');
  expect(section('Set up')).toContain('Node.js 20.5 or later');
});
