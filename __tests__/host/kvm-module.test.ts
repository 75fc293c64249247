import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nestedIsOn, readKvmModuleState } from '../../src/host/kvm-module.js';
import { copyFixture, fixtureRoot, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

test('nested is on when it reads 1 or Y, as the seed says, and only then', () => {
  expect(['1', 'Y', 'N', '0', 'y', '', undefined].map(nestedIsOn)).toEqual([true, true, false, false, false, false, false]);
});

test('the module state reads nested through nestedIsOn', async () => {
  expect(await readKvmModuleState(fixtureRoot('intel-nested-on'), 'kvm_intel')).toEqual({ loaded: true, nested: 'Y', nestedEnabled: true });
  expect(await readKvmModuleState(fixtureRoot('intel-nested-off'), 'kvm_intel')).toEqual({ loaded: true, nested: 'N', nestedEnabled: false });
  const root = await copyFixture('amd-nested-0');
  await writeFile(join(root, 'sys/module/kvm_amd/parameters/nested'), '1\n');
  expect(await readKvmModuleState(root, 'kvm_amd')).toEqual({ loaded: true, nested: '1', nestedEnabled: true });
});
