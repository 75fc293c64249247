/**
 * The transport without virsh: a fake virsh speaking the same prompt/marker protocol over in-memory
 * streams, and timers fired by hand. What the real virsh does is tested in session.test.ts.
 */

import { VirshError, VirtNestedError } from '../../src/errors.js';
import { bindSessionCommands } from '../../src/virsh/session-commands.js';
import { openTransport, VirshTransport, type TransportOptions } from '../../src/virsh/transport.js';
import { CLOSE_GRACE_MS } from '../../src/virsh/virsh-process.js';
import { FakeTimers, FakeVirsh, counterNonce, framed, settle, type FakeVirshOptions } from './fake-virsh.js';

const URI = 'test:///fake';
const names = { virshPath: 'virsh', argv: ['-q', '-c', URI], shownUri: URI };

interface Rig {
  virsh: FakeVirsh;
  timers: FakeTimers;
  transport: VirshTransport;
}

async function open(fake: FakeVirshOptions = {}, options: Partial<TransportOptions> = {}): Promise<Rig> {
  const virsh = new FakeVirsh(fake);
  const timers = new FakeTimers();
  const transport = await openTransport({ process: virsh.process, names, timeoutMs: 1000, timers, nonce: counterNonce(), ...options });
  return { virsh, timers, transport };
}

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<VirshError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(VirtNestedError);
  return outcome.error as VirshError;
}

/** The commands behind the one that ended the session: a pipelined one, a queued one, one asked afterwards. */
const BEHIND = [
  ['echo', 'pipelined'],
  ['echo', 'queued'],
  ['echo', 'later'],
];

/** The errors of {@link BEHIND}'s commands, given the first two as they were asked before the end. */
async function endedBehind(transport: VirshTransport, pipelined: Promise<unknown>, queued: Promise<unknown>): Promise<VirshError[]> {
  return [await rejection(pipelined), await rejection(queued), await rejection(transport.run(BEHIND[2] as string[]))];
}

/** Records the order in which promises settle. */
function track<T>(order: string[], name: string, promise: Promise<T>): Promise<T> {
  return promise.then(
    (value) => {
      order.push(name);
      return value;
    },
    (error: unknown) => {
      order.push(`${name} rejected`);
      throw error;
    },
  );
}

describe('the handshake', () => {
  test('waits for the prompt, asks virsh uri, and takes its answer as the canonical URI', async () => {
    const { virsh, timers, transport } = await open({ uri: 'test:///canonical' });
    expect(transport.phase).toBe('open');
    expect(transport.uri).toBe('test:///canonical');
    expect(transport.pid).toBe(4242);
    expect(virsh.input).toBe(framed('uri', 'n1'));
    // the connection's timer and the uri command's are both cleared
    expect(timers.pending).toEqual([]);
  });

  test('reads the prompt and every output however virsh splits them, byte by byte included', async () => {
    const { transport } = await open({ chunkBytes: 1 });
    expect(transport.uri).toBe(URI);
    expect(await transport.run(['echo', '--', 'ü 日本'])).toEqual({ stdout: 'ü 日本', stderr: '' });
  });

  test('a refused connection is LIBVIRT_UNREACHABLE with libvirt\'s reason and virsh\'s exit code', async () => {
    const virsh = new FakeVirsh({ start: { refuse: 'error: failed to connect to the hypervisor\nerror: Connection refused\n', exitCode: 1 } });
    const error = await rejection(openTransport({ process: virsh.process, names, timeoutMs: 1000, timers: new FakeTimers() }));
    expect([error.code, error.message, error.exitCode]).toEqual(['LIBVIRT_UNREACHABLE', `cannot connect to libvirt at ${URI}: Connection refused`, 1]);
    expect(error.command).toEqual(['virsh', '-q', '-c', URI]);
    expect(error.stderr).toBe('error: failed to connect to the hypervisor\nerror: Connection refused\n');
    expect(virsh.writes).toEqual([]);
  });

  test('no prompt within the timeout is LIBVIRT_UNREACHABLE, and virsh is killed', async () => {
    const virsh = new FakeVirsh({ start: 'silent' });
    const timers = new FakeTimers();
    const opening = openTransport({ process: virsh.process, names, timeoutMs: 500, timers });
    await settle();
    expect(timers.pending).toEqual([500]);
    timers.fire(500);
    const error = await rejection(opening);
    expect([error.code, error.message]).toEqual(['LIBVIRT_UNREACHABLE', `cannot connect to libvirt at ${URI}: no answer within 500 ms`]);
    expect(virsh.signals).toEqual(['SIGKILL']);
  });

  test('a question before the prompt fails at once instead of eating our commands', async () => {
    const virsh = new FakeVirsh({ start: { ask: 'Please enter your authentication name: ' } });
    const error = await rejection(openTransport({ process: virsh.process, names, timeoutMs: 1000, timers: new FakeTimers() }));
    expect([error.code, error.message]).toEqual([
      'LIBVIRT_UNREACHABLE',
      `cannot connect to libvirt at ${URI}: libvirt asked "Please enter your authentication name:", which virt-nested cannot answer; set up key or certificate authentication for it`,
    ]);
    expect(virsh.signals).toEqual(['SIGKILL']);
    expect(virsh.writes).toEqual([]);
  });

  test('a virsh that cannot be started is LIBVIRT_MISSING, keeping the spawn error as cause', async () => {
    const virsh = new FakeVirsh({ start: { spawnError: 'ENOENT' } });
    const error = await rejection(openTransport({ process: virsh.process, names: { ...names, virshPath: '/opt/virsh' }, timeoutMs: 1000, timers: new FakeTimers() }));
    expect([error.code, error.message]).toEqual(['LIBVIRT_MISSING', 'virsh was not found at /opt/virsh; install libvirt-clients or fix the path']);
    expect((error.cause as Error).message).toBe('spawn virsh ENOENT');
  });

  test('an abort while connecting kills virsh and is ABORTED', async () => {
    const controller = new AbortController();
    const virsh = new FakeVirsh({ start: 'silent' });
    const opening = openTransport({ process: virsh.process, names, timeoutMs: 1000, timers: new FakeTimers(), signal: controller.signal });
    controller.abort();
    const error = await rejection(opening);
    expect([error.code, error.message]).toEqual(['ABORTED', `connecting to libvirt at ${URI} was aborted`]);
    expect(virsh.signals).toEqual(['SIGKILL']);
  });

  test('a failing virsh uri is LIBVIRT_UNREACHABLE wrapping the command\'s error once, and virsh is asked to quit', async () => {
    const virsh = new FakeVirsh({ commands: { uri: () => ({ stderr: 'error: failed to connect to the hypervisor\nerror: no connection driver available\n' }) } });
    const error = await rejection(openTransport({ process: virsh.process, names, timeoutMs: 1000, timers: new FakeTimers(), nonce: counterNonce() }));
    expect([error.code, error.message]).toEqual(['LIBVIRT_UNREACHABLE', `cannot connect to libvirt at ${URI}: failed to connect to the hypervisor: no connection driver available`]);
    const cause = error.cause as VirshError;
    expect([cause.code, cause.command, cause.cause]).toEqual(['VIRSH_FAILED', ['virsh', '-c', URI, 'uri'], undefined]);
    expect(virsh.input).toBe(`${framed('uri', 'n1')}quit\n`);
  });
});

describe('the queue', () => {
  test('writes each command when the one before has finished, and settles them in the order asked', async () => {
    const { virsh, transport } = await open();
    virsh.hold('domstate');
    const order: string[] = [];
    const first = track(order, 'first', transport.run(['domstate', '--domain', 'web-1']));
    const second = track(order, 'second', transport.run(['echo', '--', 'two words']));
    const third = track(order, 'third', transport.run(['domstate', '--domain', 'nope']));
    await settle();
    expect(virsh.input).toBe(framed('uri', 'n1') + framed('domstate --domain web-1', 'n2'));
    virsh.finish({ stdout: 'running\n\n' });
    expect(await first).toEqual({ stdout: 'running\n\n', stderr: '' });
    expect(await second).toEqual({ stdout: 'two words', stderr: '' });
    const error = await rejection(third);
    expect([error.code, error.message, error.stderr]).toEqual(['GUEST_NOT_FOUND', `guest "nope" was not found at ${URI}`, "error: failed to get domain 'nope'\n"]);
    expect(order).toEqual(['first', 'second', 'third rejected']);
    expect(virsh.writes).toEqual([framed('uri', 'n1'), framed('domstate --domain web-1', 'n2'), framed("echo -- 'two words'", 'n3'), framed('domstate --domain nope', 'n4')]);
  });

  test('arms a timer only for the command virsh runs, and none for an Infinity timeout', async () => {
    const { virsh, timers, transport } = await open();
    virsh.hold('echo');
    const running = transport.run(['echo', 'slow'], { timeoutMs: 300 });
    const waiting = transport.run(['echo', 'next'], { timeoutMs: 400 });
    await settle();
    expect(timers.pending).toEqual([300]);
    virsh.finish({ stdout: 'slow' });
    await running;
    await waiting;
    expect(timers.pending).toEqual([]);
    const forever = transport.run(['echo', 'forever'], { timeoutMs: Infinity });
    expect(timers.pending).toEqual([]);
    expect((await forever).stdout).toBe('forever');
  });

  test('a command over its timeout is VIRSH_TIMEOUT; the session ends for every command behind it, each error keeping the reason as cause', async () => {
    const { virsh, timers, transport } = await open();
    virsh.hold('event');
    const slow = transport.run(['event', '--all'], { timeoutMs: 300 });
    const pipelined = transport.run(['echo', 'pipelined'], { pipeline: true });
    const queued = transport.run(['echo', 'queued']);
    await settle();
    virsh.printStderr('warning: still waiting\n');
    await settle();
    timers.fire(300);
    const error = await rejection(slow);
    expect([error.code, error.message, error.command, error.stderr]).toEqual([
      'VIRSH_TIMEOUT',
      `virsh event did not finish within 300 ms at ${URI}; the virsh session was closed, and libvirt may still finish the command`,
      ['virsh', '-c', URI, 'event', '--all'],
      'warning: still waiting\n',
    ]);
    const ended = `virsh event did not finish within 300 ms at ${URI}, so the virsh session was closed; open a new one`;
    const behind = await endedBehind(transport, pipelined, queued);
    expect(behind.map(({ code, message, command }) => [code, message, command])).toEqual(BEHIND.map((args) => ['VIRSH_TIMEOUT', ended, ['virsh', '-c', URI, ...args]]));
    // each wraps the reason once: the reason itself has no cause
    expect(behind.map(({ cause }) => [(cause as VirshError).message, (cause as VirshError).cause])).toEqual(BEHIND.map(() => [ended, undefined]));
    expect(virsh.signals).toEqual(['SIGTERM']);
    expect(transport.phase).toBe('ended');
    expect(timers.pending).toEqual([]);
  });
});

describe('pipelining', () => {
  test('pipelined commands are written at once behind the running one; a plain command waits, and so does a pipelined one behind it', async () => {
    const { virsh, transport } = await open();
    virsh.hold('event');
    const results = Promise.allSettled([
      transport.run(['event']),
      transport.run(['echo', 'a'], { pipeline: true }),
      transport.run(['domstate', '--domain', 'nope'], { pipeline: true }),
      transport.run(['echo', 'waits']),
      transport.run(['echo', 'b'], { pipeline: true }),
    ]);
    await settle();
    expect(virsh.writes).toEqual([framed('uri', 'n1'), framed('event', 'n2'), framed('echo a', 'n3'), framed('domstate --domain nope', 'n4')]);
    virsh.finish({ stdout: 'done\n' });
    const settled = await results;
    expect(settled.map((result) => (result.status === 'fulfilled' ? result.value.stdout : (result.reason as VirshError).code))).toEqual([
      'done\n',
      'a',
      'GUEST_NOT_FOUND',
      'waits',
      'b',
    ]);
    // `echo waits` was written once virsh had run everything ahead of it, and `echo b` with it
    expect(virsh.writes.slice(4)).toEqual([framed('echo waits', 'n5'), framed('echo b', 'n6')]);
  });

  test('the outputs of many pipelined commands arriving in one piece are each cut right', async () => {
    const { transport } = await open();
    const replies = await Promise.all(Array.from({ length: 30 }, (_, index) => transport.run(['echo', `r${index}`], { pipeline: true })));
    expect(replies.map((reply) => reply.stdout)).toEqual(Array.from({ length: 30 }, (_, index) => `r${index}`));
  });
});

describe('abort', () => {
  test('before a command is written: it is ABORTED, the running one finishes, then virsh is asked to quit', async () => {
    const controller = new AbortController();
    const { virsh, transport } = await open({}, { signal: controller.signal });
    virsh.hold('event');
    const running = transport.run(['event']);
    const queued = transport.run(['echo', 'queued']);
    await settle();
    controller.abort();
    const error = await rejection(queued);
    expect([error.code, error.message, error.command]).toEqual(['ABORTED', `virsh echo was not run at ${URI} because the operation was aborted`, ['virsh', '-c', URI, 'echo', 'queued']]);
    expect((await rejection(transport.run(['echo', 'after']))).code).toBe('ABORTED');
    virsh.finish({ stdout: 'events received: 0\n' });
    expect(await running).toEqual({ stdout: 'events received: 0\n', stderr: '' });
    await settle();
    // nobody called close(): the abort itself ends the session once virsh is free
    expect(virsh.input).toBe(framed('uri', 'n1') + framed('event', 'n2') + 'quit\n');
    expect(transport.phase).toBe('ended');
    await transport.close();
    expect(virsh.ran).toEqual([['uri'], ['event']]);
    expect(virsh.signals).toEqual([]);
  });

  test('after a pipelined command is written: it still runs', async () => {
    const controller = new AbortController();
    const { virsh, transport } = await open({}, { signal: controller.signal });
    virsh.hold('event');
    const running = transport.run(['event']);
    const pipelined = transport.run(['echo', 'pipelined'], { pipeline: true });
    const queued = transport.run(['echo', 'queued']);
    await settle();
    controller.abort();
    expect((await rejection(queued)).code).toBe('ABORTED');
    virsh.finish();
    expect((await running).stdout).toBe('');
    expect(await pipelined).toEqual({ stdout: 'pipelined', stderr: '' });
    await transport.close();
    expect(virsh.ran).toEqual([['uri'], ['event'], ['echo', 'pipelined']]);
  });

  test('with nothing running: virsh is asked to quit at once', async () => {
    const controller = new AbortController();
    const { virsh, transport } = await open({}, { signal: controller.signal });
    controller.abort();
    await settle();
    expect(virsh.input).toBe(`${framed('uri', 'n1')}quit\n`);
    expect(transport.phase).toBe('ended');
    await transport.close();
  });
});

describe('close', () => {
  test('lets waiting commands finish, refuses new ones, then quits', async () => {
    const { virsh, transport } = await open();
    virsh.hold('event');
    const running = transport.run(['event']);
    const queued = transport.run(['echo', 'queued']);
    await settle();
    const closed = transport.close();
    expect(transport.phase).toBe('closing');
    const refused = await rejection(transport.run(['echo', 'late']));
    expect([refused.code, refused.message]).toEqual(['USAGE', `the virsh session at ${URI} is closed; open a new one to run virsh echo`]);
    await settle();
    expect(virsh.input.endsWith('quit\n')).toBe(false);
    virsh.finish({ stdout: 'ok\n' });
    expect((await running).stdout).toBe('ok\n');
    expect((await queued).stdout).toBe('queued');
    await closed;
    expect(virsh.input.endsWith(`${framed('echo queued', 'n3')}quit\n`)).toBe(true);
    expect([transport.phase, virsh.signals]).toEqual(['ended', []]);
    expect(transport.close()).toBe(closed);
  });

  test('kills virsh when it has not quit after the grace period', async () => {
    const { virsh, timers, transport } = await open({ ignoreQuit: true });
    const closed = transport.close();
    await settle();
    expect(timers.pending).toEqual([CLOSE_GRACE_MS]);
    timers.fire(CLOSE_GRACE_MS);
    await closed;
    expect(virsh.signals).toEqual(['SIGKILL']);
  });
});

describe('virsh dying', () => {
  test('mid-command: the running, pipelined and waiting commands are VIRSH_FAILED with libvirt\'s last words, and so is every later one', async () => {
    const { virsh, timers, transport } = await open();
    virsh.hold('event');
    const running = transport.run(['event']);
    const pipelined = transport.run(['echo', 'pipelined'], { pipeline: true });
    const queued = transport.run(['echo', 'queued']);
    await settle();
    virsh.die('SIGSEGV', 'error: internal error: client socket is closed\n');
    const message = `virsh was killed by SIGSEGV at ${URI}: internal error: client socket is closed; open a new session`;
    const error = await rejection(running);
    expect([error.code, error.message, error.command, error.stderr]).toEqual(['VIRSH_FAILED', message, ['virsh', '-q', '-c', URI], 'error: internal error: client socket is closed\n']);
    const behind = await endedBehind(transport, pipelined, queued);
    expect(behind.map(({ code, message, command, cause }) => [code, message, command, cause])).toEqual(
      BEHIND.map((args) => ['VIRSH_FAILED', message, ['virsh', '-c', URI, ...args], error]),
    );
    expect([virsh.signals, timers.pending]).toEqual([[], []]);
    await transport.close();
  });

  test('between commands: the next one is VIRSH_FAILED with the exit code', async () => {
    const { virsh, transport } = await open();
    virsh.process.kill('SIGKILL');
    await settle();
    const error = await rejection(transport.run(['echo', 'x']));
    expect([error.code, error.message]).toEqual(['VIRSH_FAILED', `virsh was killed by SIGKILL at ${URI}; open a new session`]);
  });
});

describe('refused before the queue', () => {
  test.each([
    [['quit'], `virsh quit cannot run inside a virt-nested session at ${URI}; run it with virsh directly`],
    [['net-edit', 'default'], `virsh net-edit cannot run inside a virt-nested session at ${URI}; run it with virsh directly`],
    [['echo', 'a\nb'], 'virsh argument "a\\nb" holds the control character U+000A, which virsh cannot take; remove it from the name or path'],
  ])('%j is USAGE and nothing is written', async (args, message) => {
    const { virsh, transport } = await open();
    const error = await rejection(transport.run(args));
    expect([error.code, error.message]).toEqual(['USAGE', message]);
    expect(virsh.writes).toEqual([framed('uri', 'n1')]);
  });

  test('a timeout that is not a positive number is USAGE', async () => {
    const { transport } = await open();
    expect(await rejection(transport.run(['echo', 'x'], { timeoutMs: 0 }))).toMatchObject({
      code: 'USAGE',
      message: 'the virsh timeout must be a positive number of milliseconds, got 0',
    });
  });
});

describe('the typed commands over a transport', () => {
  test('are the free functions with the transport as their runner', async () => {
    const { virsh, transport } = await open({ commands: { start: () => ({}) } });
    const commands = bindSessionCommands(transport);
    expect(Object.keys(commands).sort()).toEqual(['define', 'destroy', 'domcapabilities', 'domstate', 'dumpxml', 'listGuests', 'qemuMonitorCommand', 'shutdown', 'start', 'undefine']);
    expect(await commands.domstate('web-1', { pipeline: true })).toBe('running');
    await commands.start('web-1');
    expect(virsh.ran.slice(1)).toEqual([
      ['domstate', '--domain', 'web-1'],
      ['start', '--domain', 'web-1'],
    ]);
  });
});
