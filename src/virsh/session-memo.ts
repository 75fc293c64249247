/**
 * Answers kept for a session's life: what stays true while the connection is open (domcapabilities
 * for one emulator, arch, machine and virt type) is asked of libvirt once per session, and goes with it.
 */

/**
 * Remembers `compute()`'s answer under `key`; a failure is not remembered, so the next caller asks again.
 *
 * @example
 * const caps = await session.remember('domcapabilities {"virttype":"kvm"}', () => session.domcapabilities({ virttype: 'kvm' }));
 */
export type Remember = <T>(key: string, compute: () => Promise<T>) => Promise<T>;

/**
 * A new, empty memory for one session.
 *
 * @example
 * const remember = sessionMemo(); await remember('k', async () => 1); // 1, computed once
 */
export function sessionMemo(): Remember {
  const answers = new Map<string, Promise<unknown>>();
  return <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    let answer = answers.get(key) as Promise<T> | undefined;
    if (answer === undefined) {
      answer = compute();
      answers.set(key, answer);
      answer.catch(() => answers.delete(key));
    }
    return answer;
  };
}
