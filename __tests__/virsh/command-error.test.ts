import { VirshError } from '../../src/errors.js';
import { commandError, commandFailed, guestArgument } from '../../src/virsh/command-error.js';

const URI = 'qemu:///system';
const argv = (args: string[]): string[] => ['virsh', '-c', URI, ...args];

describe('guestArgument', () => {
  test('reads --domain NAME and --domain=NAME, never a positional', () => {
    expect(guestArgument(['dumpxml', '--domain', '-vn x', '--inactive'])).toBe('-vn x');
    expect(guestArgument(['dumpxml', '--domain=it\'s'])).toBe("it's");
    expect(guestArgument(['dumpxml', 'web-1'])).toBeUndefined();
  });
});

describe('commandFailed', () => {
  test('is true for an error line, false for virsh reconnecting before the command', () => {
    expect(commandFailed("error: failed to get domain 'x'\n")).toBe(true);
    expect(commandFailed('error: Disconnected from qemu:///system due to end of file\nerror: Reconnected to the hypervisor\n')).toBe(false);
    expect(commandFailed('')).toBe(false);
  });
});

describe('commandError', () => {
  test('a missing guest is GUEST_NOT_FOUND named by its --domain value', () => {
    const args = ['domstate', '--domain', `it's "quoted"`];
    const error = commandError(argv(args), args, URI, `error: failed to get domain 'it's "quoted"'\n`);
    expect(error).toBeInstanceOf(VirshError);
    expect(error.code).toBe('GUEST_NOT_FOUND');
    expect(error.message).toBe(`guest "it's "quoted"" was not found at qemu:///system`);
    expect(error.command).toEqual(argv(args));
  });

  test('"Domain not found" from an older libvirt is GUEST_NOT_FOUND too', () => {
    const args = ['dumpxml', '--domain', 'web-1'];
    const error = commandError(argv(args), args, URI, "error: Domain not found: no domain with matching name 'web-1'\n");
    expect([error.code, error.message]).toEqual(['GUEST_NOT_FOUND', 'guest "web-1" was not found at qemu:///system']);
  });

  test('a guest that is not running is GUEST_NOT_RUNNING', () => {
    const args = ['qemu-monitor-command', '--domain', 'web-1', '--cmd', '{}'];
    const error = commandError(argv(args), args, URI, 'error: Requested operation is not valid: domain is not running\n');
    expect([error.code, error.message]).toEqual(['GUEST_NOT_RUNNING', 'guest "web-1" is not running at qemu:///system; start it first (virsh -c qemu:///system start --domain web-1)']);
  });

  test('a lost connection that virsh could not re-open is LIBVIRT_UNREACHABLE', () => {
    const args = ['list', '--name'];
    const stderr = [
      'error: Disconnected from qemu:///system due to end of file',
      'error: Failed to reconnect to the hypervisor',
      "error: Failed to connect socket to '/run/libvirt/libvirt-sock': Connection refused",
      '',
    ].join('\n');
    const error = commandError(argv(args), args, URI, stderr);
    expect([error.code, error.message]).toEqual([
      'LIBVIRT_UNREACHABLE',
      "lost the connection to libvirt at qemu:///system: Failed to connect socket to '/run/libvirt/libvirt-sock': Connection refused",
    ]);
  });

  test('anything else is VIRSH_FAILED with libvirt\'s message', () => {
    const args = ['start', '--domain', 'web-1'];
    const error = commandError(argv(args), args, URI, 'error: Failed to start domain \'web-1\'\nerror: Requested operation is not valid: domain is already running\n');
    expect([error.code, error.message]).toEqual([
      'VIRSH_FAILED',
      "virsh start failed at qemu:///system: Failed to start domain 'web-1': Requested operation is not valid: domain is already running",
    ]);
    expect(error.stderr).toContain('already running');
  });
});
