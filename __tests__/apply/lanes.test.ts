/**
 * eachInOrder: a few items at once, results in input order, nothing taken after the stop. The work is
 * made of promises the test settles itself, in the order it chooses.
 */
import { eachInOrder } from '../../src/apply/lanes.js';

/** Work whose items finish when the test says, recording when each was taken and on which lane. */
function controlledWork() {
  const pending = new Map<string, (result: string | undefined) => void>();
  const taken: Array<[string, number]> = [];
  return {
    taken,
    work: (item: string, lane: number) => new Promise<string | undefined>((resolve) => {
      taken.push([item, lane]);
      pending.set(item, resolve);
    }),
    /** Settles `item` with `done ITEM`, or with undefined when `stoppedBeforeBegun`. */
    async finish(item: string, stoppedBeforeBegun = false) {
      pending.get(item)?.(stoppedBeforeBegun ? undefined : `done ${item}`);
      pending.delete(item);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

test('at most `jobs` at once; results come out in input order whatever order they finish in', async () => {
  const c = controlledWork();
  const emitted: string[] = [];
  const running = eachInOrder(['a', 'b', 'c', 'd', 'e'], 2, () => false, c.work, (r) => emitted.push(r));
  await c.finish('nothing');
  expect(c.taken).toEqual([['a', 0], ['b', 1]]);
  await c.finish('b');
  // b is done, but a is not: b waits; lane 1 took c
  expect(emitted).toEqual([]);
  expect(c.taken).toEqual([['a', 0], ['b', 1], ['c', 1]]);
  await c.finish('a');
  expect(emitted).toEqual(['done a', 'done b']);
  expect(c.taken).toEqual([['a', 0], ['b', 1], ['c', 1], ['d', 0]]);
  await c.finish('d');
  await c.finish('c');
  await c.finish('e');
  await running;
  expect(emitted).toEqual(['done a', 'done b', 'done c', 'done d', 'done e']);
  expect(c.taken).toEqual([['a', 0], ['b', 1], ['c', 1], ['d', 0], ['e', 0]]);
});

test('once stop() holds no item is taken; those being worked on finish and are handed on', async () => {
  const c = controlledWork();
  const emitted: string[] = [];
  let stopped = false;
  const running = eachInOrder(['a', 'b', 'c', 'd'], 2, () => stopped, c.work, (r) => { emitted.push(r); stopped = true; });
  await c.finish('a');
  // a's result stopped the run before its lane took c: b, being worked on, finishes
  expect(c.taken).toEqual([['a', 0], ['b', 1]]);
  await c.finish('b');
  await running;
  expect(emitted).toEqual(['done a', 'done b']);
  expect(c.taken.map(([item]) => item)).toEqual(['a', 'b']);
});

test('an undefined result (an item stopped before it began) is not handed on, and order holds around it', async () => {
  const c = controlledWork();
  const emitted: string[] = [];
  const running = eachInOrder(['a', 'b', 'c'], 3, () => false, c.work, (r) => emitted.push(r));
  await c.finish('c');
  await c.finish('a', true);
  expect(emitted).toEqual([]);
  await c.finish('b');
  await running;
  expect(emitted).toEqual(['done b', 'done c']);
});

test('fewer items than lanes, and no items at all', async () => {
  const c = controlledWork();
  const emitted: string[] = [];
  const running = eachInOrder(['a'], 4, () => false, c.work, (r) => emitted.push(r));
  await c.finish('a');
  await running;
  expect([c.taken, emitted]).toEqual([[['a', 0]], ['done a']]);
  await eachInOrder([], 4, () => false, c.work, (r) => emitted.push(r));
  expect(c.taken).toHaveLength(1);
});
