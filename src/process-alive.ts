/**
 * Whether a process id stands for a running process: files named for a process (history directories,
 * staged definitions) are left behind only by processes that were killed.
 */

/**
 * True when a process with this id exists (also one of another user, which `kill` refuses with EPERM).
 *
 * @example
 * processIsAlive(process.pid) // true
 */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
