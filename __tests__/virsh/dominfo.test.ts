/**
 * `dominfo`: read from a real virsh, against libvirt's test driver (a running guest) and the system
 * libvirtd (a guest that is defined and shut off).
 */
import { dominfo, parseDominfo } from '../../src/virsh/dominfo.js';
import { withVirsh } from '../../src/virsh/index.js';
import { SYSTEM_URI, makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from './throwaway-guests.js';

const guest = uniqueName('vn-dominfo');

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir();
});

afterAll(async () => {
  await removeGuests([guest]);
  await removeDir(dir);
});

test('the test driver\'s running guest: its state, its id, persistent, no managed save image', async () => {
  const info = await withVirsh({ uri: 'test:///default' }, (session) => dominfo(session, 'test'));
  expect(info).toEqual({ state: 'running', id: 1, persistent: true, managedSave: false });
});

test('a defined guest that is shut off has no id', async () => {
  expect((await plainVirsh(['define', '--file', await writeTemp(dir, 'guest.xml', tcgGuestXml(guest))])).exitCode).toBe(0);
  const info = await withVirsh({ uri: SYSTEM_URI }, (session) => dominfo(session, guest));
  expect(info).toEqual({ state: 'shut off', id: undefined, persistent: true, managedSave: false });
});

test('fields are read by name, a missing State is "unknown", and a managed save image is seen', () => {
  expect(parseDominfo('Id:             7\nState:          paused\nPersistent:     no\nManaged save:   yes\n'))
    .toEqual({ state: 'paused', id: 7, persistent: false, managedSave: true });
  expect(parseDominfo('Name:           x\n')).toEqual({ state: 'unknown', id: undefined, persistent: false, managedSave: false });
});
