/**
 * A few pieces of work at once, with results handed on in the order of the input: a fleet works on
 * several guests of a host at the same time and still reports them in the order they were selected.
 */

/**
 * Runs `work` over `items`, `jobs` at a time (`lane` numbers the worker, from 0), and hands each result
 * to `emit` in the order of `items` (undefined results are not handed on). No item is taken once `stop()`
 * holds; the items being worked on then finish.
 *
 * @example
 * await eachInOrder(guests, 4, () => signal.aborted, (guest, lane) => edit(sessions[lane % 2], guest), print);
 */
export async function eachInOrder<T, R>(
  items: readonly T[], jobs: number, stop: () => boolean,
  work: (item: T, lane: number) => Promise<R | undefined>, emit: (result: R) => void,
): Promise<void> {
  const done = new Map<number, R | undefined>();
  let taken = 0;
  let emitted = 0;
  const lane = async (worker: number): Promise<void> => {
    while (taken < items.length && !stop()) {
      const index = taken++;
      done.set(index, await work(items[index] as T, worker));
      for (; done.has(emitted); emitted++) {
        const result = done.get(emitted);
        done.delete(emitted);
        if (result !== undefined) emit(result);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, (_, worker) => lane(worker)));
}

