/**
 * domcapabilities is asked once per session for guests of the same emulator, arch, machine and virt
 * type: the session keeps the answer (`remember`), so a new session asks again.
 */
import { planCpuMode, type PlanningCommands } from '../../src/apply/plan-cpu-mode.js';
import { sessionMemo } from '../../src/virsh/session-memo.js';
import { openVirsh, type VirshSession } from '../../src/virsh/session.js';
import { makeTempDir, plainVirsh, removeDir, removeGuests, tcgGuestXml, uniqueName, writeTemp } from '../virsh/throwaway-guests.js';

const guests = [uniqueName('vn-caps-a'), uniqueName('vn-caps-b')];
let dir: string;
let session: VirshSession;

beforeAll(async () => {
  dir = await makeTempDir();
  for (const name of guests) {
    expect((await plainVirsh(['define', '--file', await writeTemp(dir, `${name}.xml`, tcgGuestXml(name))])).exitCode).toBe(0);
  }
  session = await openVirsh({ uri: 'qemu:///system' });
});
afterAll(async () => {
  await session?.close();
  await removeGuests(guests);
  await removeDir(dir);
});

/** The session's commands, counting domcapabilities, keeping answers in `remember`. */
function counting(remember: PlanningCommands['remember']) {
  const asked: string[] = [];
  const commands: PlanningCommands = {
    get uri() { return session.uri; },
    run: session.run,
    dumpxml: session.dumpxml,
    domcapabilities: (options) => { asked.push(JSON.stringify(options)); return session.domcapabilities(options); },
    ...(remember ? { remember } : {}),
  };
  return { commands, asked };
}

test('two guests of one kind, one session: one domcapabilities; another session asks again; no memory, each asks', async () => {
  const first = counting(session.remember);
  for (const guest of guests) expect((await planCpuMode(first.commands, guest, { mode: 'host-model' })).changed).toBe(true);
  expect(first.asked).toHaveLength(1);
  const other = counting(sessionMemo());
  await planCpuMode(other.commands, guests[0] as string, { mode: 'host-model' });
  expect(other.asked).toHaveLength(1);
  const none = counting(undefined);
  for (const guest of guests) await planCpuMode(none.commands, guest, { mode: 'host-model' });
  expect(none.asked).toHaveLength(2);
});

test('a failed answer is not kept: the next caller asks again', async () => {
  const remember = sessionMemo();
  let calls = 0;
  const failing = () => { calls += 1; return Promise.reject(new Error(`failure ${calls}`)); };
  await expect(remember('k', failing)).rejects.toThrow('failure 1');
  await expect(remember('k', failing)).rejects.toThrow('failure 2');
  expect(await remember('k', async () => 'answer')).toBe('answer');
  expect(await remember('k', async () => 'another')).toBe('answer');
});
