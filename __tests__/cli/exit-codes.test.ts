/**
 * The exit-code policy lives in src/cli/exit-codes.ts alone; the library re-exports its public names.
 */
import * as library from '../../src/index.js';
import * as policy from '../../src/cli/exit-codes.js';
import { GuestNotShutOffError, GuestsRunningError, VirshError, VirtNestedError, errorCodeOf, type ErrorCode } from '../../src/errors.js';
import { GuestsRunningError as FromHost } from '../../src/host/index.js';

test('the library exports the CLI policy itself, not a copy', () => {
  expect([library.EXIT_OK, library.EXIT_FAILED, library.EXIT_USAGE]).toEqual([0, 1, 2]);
  expect(library.exitCodeFor).toBe(policy.exitCodeFor);
  expect(library.exitCodeForCode).toBe(policy.exitCodeForCode);
  expect(FromHost).toBe(GuestsRunningError);
});

test('refusals are exit 1, everything else exit 2', () => {
  const codes: ErrorCode[] = ['GUEST_NOT_SHUT_OFF', 'DEFINE_FAILED', 'GUESTS_RUNNING', 'VIRSH_TIMEOUT', 'LIBVIRT_UNREACHABLE', 'GUEST_NOT_FOUND', 'INTERNAL'];
  expect(codes.map((code) => [code, policy.exitCodeForCode(code)])).toEqual([
    ['GUEST_NOT_SHUT_OFF', 1], ['DEFINE_FAILED', 1], ['GUESTS_RUNNING', 1],
    ['VIRSH_TIMEOUT', 2], ['LIBVIRT_UNREACHABLE', 2], ['GUEST_NOT_FOUND', 2], ['INTERNAL', 2],
  ]);
  expect(policy.exitCodeFor(new GuestNotShutOffError('web-1', 'running', 'guest "web-1" is running'))).toBe(1);
  expect(policy.exitCodeFor(new VirshError('VIRSH_TIMEOUT', 'virsh did not answer', { command: ['define'], stderr: '' }))).toBe(2);
  expect(policy.exitCodeFor(new Error('a bug'))).toBe(2);
  expect([errorCodeOf(new TypeError('x')), errorCodeOf(new VirtNestedError('USAGE', 'x'))]).toEqual(['INTERNAL', 'USAGE']);
});

test('a guest that is not shut off says why: running unless told otherwise, and keeps its cause', () => {
  const cause = new Error('domstate failed');
  const running = new GuestNotShutOffError('web-1', 'paused', 'guest "web-1" is paused');
  const timedOut = new GuestNotShutOffError('web-1', 'running', 'guest "web-1" did not shut down', { reason: 'shutdown-timeout', cause });
  expect([running.code, running.reason, running.state, running.cause]).toEqual(['GUEST_NOT_SHUT_OFF', 'running', 'paused', undefined]);
  expect([timedOut.reason, timedOut.cause]).toEqual(['shutdown-timeout', cause]);
});
