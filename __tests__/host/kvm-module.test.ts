import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nestedIsOn, readKvmModuleState } from '../../src/host/kvm-module.js';
import { copyFixture, fixtureRoot, removeCopies } from './fixture-trees.js';

afterEach(removeCopies);

test('nested is on when it reads 1 or Y, as the seed says, and only then', () => {
  expect(['1', 'Y', 'N', '0', 'y', '', undefined].map(nestedIsOn)).toEqual([true, true, false, false, false, false, false]);
});

test('the module state reads nested through nestedIsOn, and the use count from refcnt', async () => {
  expect(await readKvmModuleState(fixtureRoot('intel-nested-on'), 'kvm_intel')).toEqual({ loaded: true, nested: 'Y', nestedEnabled: true, useCount: 0 });
});

test('the use count is the kernel\'s: refcnt first, else /proc/modules (lsmod\'s "Used by"), else unknown', async () => {
  const root = await copyFixture('amd-nested-1');
  await writeFile(join(root, 'sys/module/kvm_amd/refcnt'), '2\n');
  expect((await readKvmModuleState(root, 'kvm_amd')).useCount).toBe(2);
  const procOnly = await copyFixture('intel-module-not-loaded');
  await writeFile(join(procOnly, 'proc/modules'), 'kvm_intel 413696 3 - Live 0x0000000000000000\nkvm 1146880 1 kvm_intel, Live 0x0000000000000000\n');
  expect(await readKvmModuleState(procOnly, 'kvm_intel')).toEqual({ loaded: true, nested: undefined, nestedEnabled: false, useCount: 3 });
  const noCount = await copyFixture('intel-nested-off');
  await mkdir(join(noCount, 'sys/module/kvm_intel'), { recursive: true });
  await writeFile(join(noCount, 'sys/module/kvm_intel/refcnt'), '');
  expect((await readKvmModuleState(noCount, 'kvm_intel')).useCount).toBeUndefined();
  expect((await readKvmModuleState(fixtureRoot('intel-module-not-loaded'), 'kvm_intel')).useCount).toBeUndefined();
});
