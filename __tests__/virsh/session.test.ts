import { chmod, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { VirshError, VirtNestedError } from '../../src/errors.js';
import { openVirsh, withVirsh, type VirshSession } from '../../src/virsh/index.js';
import { makeTempDir, removeDir, writeTemp } from './throwaway-guests.js';

const TEST_URI = 'test:///default';

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<VirtNestedError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(VirtNestedError);
  return outcome.error as VirtNestedError;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await removeDir(dir);
});

describe('a session on test:///default', () => {
  let virsh: VirshSession;
  beforeAll(async () => {
    virsh = await openVirsh({ uri: TEST_URI });
  });
  afterAll(async () => {
    await virsh?.close();
  });

  test('knows its canonical URI and the running guest "test"', async () => {
    expect(virsh.uri).toBe(TEST_URI);
    expect(await virsh.domstate('test')).toBe('running');
    expect(await virsh.listGuests({ all: true })).toEqual(['test']);
  });

  test('answers 100 commands sent at once, each with its own output, in order', async () => {
    const order: number[] = [];
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        virsh.run(['echo', '--', `reply ${index} ü`]).then((output) => {
          order.push(index);
          return output.stdout;
        }),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 100 }, (_, index) => `reply ${index} ü`));
    expect(order).toEqual(Array.from({ length: 100 }, (_, index) => index));
  });

  test.each([
    `it's "quoted"`,
    '-vn odd name ü',
    '--domain',
    '',
    '  leading and trailing  ',
    'a;b # not a comment',
    "\\ back\\slash '' $HOME `id` *?[x] ~",
    '日本語 😀 Ω',
    '<a b="c">&amp;</a>',
  ])('passes %j through virsh\'s parser byte for byte', async (argument) => {
    expect(await virsh.run(['echo', '--', argument])).toEqual({ stdout: argument, stderr: '' });
  });

  test('a missing guest is GUEST_NOT_FOUND with one sentence naming it and the URI', async () => {
    const error = await rejection(virsh.domstate('no-such-guest ü'));
    expect(error).toBeInstanceOf(VirshError);
    expect(error.code).toBe('GUEST_NOT_FOUND');
    expect(error.message).toBe('guest "no-such-guest ü" was not found at test:///default');
    expect((error as VirshError).command).toEqual(['virsh', '-c', TEST_URI, 'domstate', '--domain', 'no-such-guest ü']);
  });

  test('a failing command in the middle leaves the session usable', async () => {
    const pid = virsh.pid;
    const results = await Promise.allSettled([
      virsh.domstate('test'),
      virsh.run(['no-such-command']),
      virsh.run(['dumpxml', '--domain', 'test', '--no-such-option']),
      virsh.domstate('test'),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'VIRSH_FAILED',
      message: "virsh no-such-command failed at test:///default: unknown command: 'no-such-command'",
    });
    expect((results[3] as PromiseFulfilledResult<string>).value).toBe('running');
    expect(virsh.pid).toBe(pid);
  });

  test('pipelined commands, written all at once, each get their own output, failures included, in order', async () => {
    const pid = virsh.pid;
    const pipeline = { pipeline: true };
    const results = await Promise.allSettled([
      virsh.run(['echo', '--', 'first ü'], pipeline),
      virsh.domstate('no-such-guest', pipeline),
      virsh.dumpxml('test', { inactive: true, ...pipeline }),
      virsh.run(['no-such-command'], pipeline),
      virsh.run(['echo', '--', 'then one that waits']),
      ...Array.from({ length: 50 }, (_, index) => virsh.run(['echo', '--', `pipelined ${index}`], pipeline)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', ...Array(50).fill('fulfilled')]);
    const value = (index: number) => (results[index] as PromiseFulfilledResult<{ stdout: string } | string>).value;
    expect(value(0)).toEqual({ stdout: 'first ü', stderr: '' });
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'GUEST_NOT_FOUND', message: 'guest "no-such-guest" was not found at test:///default' });
    expect(value(2)).toMatch(/^<domain type='test'>\n  <name>test<\/name>\n[\s\S]*<\/domain>\n$/);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'VIRSH_FAILED', message: "virsh no-such-command failed at test:///default: unknown command: 'no-such-command'" });
    expect(value(4)).toEqual({ stdout: 'then one that waits', stderr: '' });
    expect(results.slice(5).map((result) => (result as PromiseFulfilledResult<{ stdout: string }>).value.stdout)).toEqual(Array.from({ length: 50 }, (_, index) => `pipelined ${index}`));
    expect(virsh.pid).toBe(pid);
  });

  test.each(['a\nb', 'a\rb', 'a\0b', 'a\tb'])('refuses the argument %j with USAGE and goes on', async (argument) => {
    const error = await rejection(virsh.run(['echo', argument]));
    expect(error.code).toBe('USAGE');
    expect(error.message).not.toContain('\n');
    expect(await virsh.run(['echo', 'still here'])).toEqual({ stdout: 'still here', stderr: '' });
  });

  test.each([['quit'], ['connect', 'qemu:///system'], ['edit', '--domain', 'test'], ['cd', '/'], ['console', 'test']])(
    'refuses %s, which would break the session',
    async (...args) => {
      expect((await rejection(virsh.run(args))).code).toBe('USAGE');
      expect(await virsh.domstate('test')).toBe('running');
    },
  );

  test('a definition made in the session is seen by the session (test driver state is per connection)', async () => {
    const file = await writeTemp(dir, 'test-guest.xml', "<domain type='test'><name>-vn odd name ü</name><memory>8192</memory><os><type>hvm</type></os></domain>\n");
    await virsh.define(file);
    expect(await virsh.domstate('-vn odd name ü')).toBe('shut off');
    expect(await virsh.listGuests({ all: true })).toEqual(expect.arrayContaining(['test', '-vn odd name ü']));
    expect(await virsh.listGuests({ state: 'shutoff' })).toEqual(['-vn odd name ü']);
    await virsh.undefine('-vn odd name ü');
    expect((await rejection(virsh.domstate('-vn odd name ü'))).code).toBe('GUEST_NOT_FOUND');
  });
});

describe('the protocol environment', () => {
  test('a 100000-character non-ASCII argument comes back exact even with TERM unset and a C locale in the caller\'s env', async () => {
    const long = 'xü '.repeat(33_334).slice(0, 100_000);
    const output = await withVirsh({ uri: TEST_URI, env: { TERM: undefined, LANG: 'C', LC_ALL: 'C', COLUMNS: '80' } }, (virsh) =>
      virsh.run(['echo', '--', long]),
    );
    expect(output.stdout).toBe(long);
  });

  test('LIBVIRT_DEFAULT_URI in env picks the connection when no uri is given', async () => {
    expect(await withVirsh({ env: { LIBVIRT_DEFAULT_URI: TEST_URI } }, (virsh) => virsh.uri)).toBe(TEST_URI);
  });
});

describe('connection failures', () => {
  test.each([
    ['qemu+tcp://127.0.0.1:1/system', "cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system: unable to connect to server at '127.0.0.1:1': Connection refused"],
    [
      'qemu+unix:///system?socket=/nonexistent',
      "cannot connect to libvirt at qemu+unix:///system?socket=/nonexistent: Failed to connect socket to '/nonexistent': No such file or directory",
    ],
  ])('%s is LIBVIRT_UNREACHABLE in one sentence', async (uri, message) => {
    const error = await rejection(openVirsh({ uri }));
    expect(error).toBeInstanceOf(VirshError);
    expect(error.code).toBe('LIBVIRT_UNREACHABLE');
    expect(error.message).toBe(message);
    expect((error as VirshError).exitCode).toBe(1);
    expect((error as VirshError).stderr).toContain('error: failed to connect to the hypervisor');
  });

  test('an unreachable LIBVIRT_DEFAULT_URI is named in the message', async () => {
    const error = await rejection(openVirsh({ env: { LIBVIRT_DEFAULT_URI: 'qemu+tcp://127.0.0.1:1/system' } }));
    expect(error.code).toBe('LIBVIRT_UNREACHABLE');
    expect(error.message).toMatch(/^cannot connect to libvirt at qemu\+tcp:\/\/127\.0\.0\.1:1\/system: /);
  });

  test('a server that never answers is LIBVIRT_UNREACHABLE after the timeout', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const error = await rejection(openVirsh({ uri: `qemu+tcp://127.0.0.1:${port}/system`, timeoutMs: 500 }));
      expect(error.code).toBe('LIBVIRT_UNREACHABLE');
      expect(error.message).toBe(`cannot connect to libvirt at qemu+tcp://127.0.0.1:${port}/system: no answer within 500 ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a missing virsh is LIBVIRT_MISSING', async () => {
    const error = await rejection(openVirsh({ virshPath: '/nonexistent/virsh' }));
    expect(error).toBeInstanceOf(VirshError);
    expect(error.code).toBe('LIBVIRT_MISSING');
    expect(error.message).toBe('virsh was not found at /nonexistent/virsh; install libvirt-clients or fix the path');
  });

  test('virsh missing from PATH says to install libvirt-clients', async () => {
    const error = await rejection(openVirsh({ env: { PATH: dir } }));
    expect([error.code, error.message]).toEqual(['LIBVIRT_MISSING', 'virsh was not found; install libvirt-clients']);
  });

  test('a connection that asks for credentials fails at once instead of eating our commands', async () => {
    // The real libvirtd here never asks; a stand-in prints what libvirt's auth callback would, then waits.
    const fake = await writeTemp(dir, 'asking-virsh', "#!/bin/sh\nprintf 'Please enter your authentication name: '\nexec sleep 30\n");
    await chmod(fake, 0o755);
    const error = await rejection(openVirsh({ virshPath: fake, uri: 'qemu+tcp://example.invalid/system' }));
    expect(error.code).toBe('LIBVIRT_UNREACHABLE');
    expect(error.message).toBe(
      'cannot connect to libvirt at qemu+tcp://example.invalid/system: libvirt asked "Please enter your authentication name:", which virt-nested cannot answer; set up key or certificate authentication for it',
    );
  });

  test('a URI with a newline is USAGE', async () => {
    expect((await rejection(openVirsh({ uri: 'test:///default\nquit' }))).code).toBe('USAGE');
  });
});

describe('losing the connection mid-session (a proxy to the real libvirtd socket, cut on purpose)', () => {
  async function proxy(): Promise<{ uri: string; cut: () => void; stop: () => Promise<void> }> {
    const path = join(dir, `libvirt-${Math.random().toString(16).slice(2)}.sock`);
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect('/var/run/libvirt/libvirt-sock');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return {
      uri: `qemu+unix:///system?socket=${path}`,
      cut: () => {
        for (const socket of sockets) socket.destroy();
      },
      stop: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
        await rm(path, { force: true });
      },
    };
  }

  test('when virsh can reconnect, the next command succeeds', async () => {
    const link = await proxy();
    try {
      await withVirsh({ uri: link.uri }, async (virsh) => {
        expect(virsh.uri).toBe(link.uri);
        link.cut();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const output = await virsh.run(['uri']);
        expect(output.stdout).toBe(`${link.uri}\n`);
        expect(output.stderr).toContain('Reconnected to the hypervisor');
      });
    } finally {
      await link.stop();
    }
  });

  test('when it cannot, the command is LIBVIRT_UNREACHABLE naming the URI', async () => {
    const link = await proxy();
    const virsh = await openVirsh({ uri: link.uri });
    try {
      await link.stop();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const error = await rejection(virsh.listGuests());
      expect(error.code).toBe('LIBVIRT_UNREACHABLE');
      expect(error.message).toMatch(/^lost the connection to libvirt at qemu\+unix:\/\/\/system\?socket=\S+: Failed to connect socket to '\S+': No such file or directory$/);
    } finally {
      await virsh.close();
    }
  });
});

describe('timeouts, aborts, exits and close', () => {
  test('a command over its timeout is VIRSH_TIMEOUT, the session is killed, and later commands are refused', async () => {
    const virsh = await openVirsh({ uri: TEST_URI });
    const slow = virsh.run(['event', '--all', '--timeout', '20'], { timeoutMs: 300 });
    const queued = virsh.run(['echo', 'never']);
    const error = await rejection(slow);
    expect(error.code).toBe('VIRSH_TIMEOUT');
    expect(error.message).toBe('virsh event did not finish within 300 ms at test:///default; the virsh session was closed, and libvirt may still finish the command');
    const ended = 'virsh event did not finish within 300 ms at test:///default, so the virsh session was closed; open a new one';
    expect(await rejection(queued)).toMatchObject({ code: 'VIRSH_TIMEOUT', message: ended });
    expect(await rejection(virsh.run(['echo', 'later']))).toMatchObject({ code: 'VIRSH_TIMEOUT', message: ended });
    await virsh.close();
    expect(alive(virsh.pid)).toBe(false);
  });

  test('an abort lets the running command finish, rejects the queued ones with ABORTED, then ends virsh', async () => {
    const controller = new AbortController();
    const virsh = await openVirsh({ uri: TEST_URI, signal: controller.signal });
    const running = virsh.run(['event', '--all', '--timeout', '1']);
    const queued = virsh.run(['echo', 'queued']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    const queuedError = await rejection(queued);
    expect([queuedError.code, queuedError.message]).toEqual(['ABORTED', 'virsh echo was not run at test:///default because the operation was aborted']);
    expect((await running).stdout).toBe('event loop timed out\nevents received: 0\n');
    expect((await rejection(virsh.run(['echo', 'after']))).code).toBe('ABORTED');
    await waitUntil(() => !alive(virsh.pid));
    await virsh.close();
  });

  test('an abort does not stop a pipelined command already written behind the running one; a queued one it does', async () => {
    const controller = new AbortController();
    const virsh = await openVirsh({ uri: TEST_URI, signal: controller.signal });
    const running = virsh.run(['event', '--all', '--timeout', '1']);
    const pipelined = virsh.run(['echo', 'pipelined'], { pipeline: true });
    const queued = virsh.run(['echo', 'queued']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect((await rejection(queued)).code).toBe('ABORTED');
    expect((await running).stdout).toBe('event loop timed out\nevents received: 0\n');
    expect(await pipelined).toEqual({ stdout: 'pipelined', stderr: '' });
    await waitUntil(() => !alive(virsh.pid));
    await virsh.close();
  });

  test('a timeout ends the session for the pipelined commands behind the running one too', async () => {
    const virsh = await openVirsh({ uri: TEST_URI });
    const slow = virsh.run(['event', '--all', '--timeout', '20'], { timeoutMs: 300 });
    const pipelined = virsh.run(['echo', 'never'], { pipeline: true });
    expect((await rejection(slow)).code).toBe('VIRSH_TIMEOUT');
    expect(await rejection(pipelined)).toMatchObject({
      code: 'VIRSH_TIMEOUT',
      message: 'virsh event did not finish within 300 ms at test:///default, so the virsh session was closed; open a new one',
      command: ['virsh', '-c', TEST_URI, 'echo', 'never'],
    });
    await virsh.close();
    expect(alive(virsh.pid)).toBe(false);
  });

  test('an already aborted signal starts nothing', async () => {
    expect((await rejection(openVirsh({ uri: TEST_URI, signal: AbortSignal.abort() }))).code).toBe('ABORTED');
  });

  test('virsh dying under the session is VIRSH_FAILED for the next command', async () => {
    const virsh = await openVirsh({ uri: TEST_URI });
    process.kill(virsh.pid ?? 0, 'SIGKILL');
    // Whether virsh's death is noticed before or after the command is queued, the answer is the same.
    const error = await rejection(virsh.run(['echo', 'x']));
    expect([error.code, error.message]).toEqual(['VIRSH_FAILED', 'virsh was killed by SIGKILL at test:///default; open a new session']);
    await waitUntil(() => !alive(virsh.pid));
    const later = await rejection(virsh.run(['echo', 'y']));
    expect([later.code, later.message]).toEqual(['VIRSH_FAILED', 'virsh was killed by SIGKILL at test:///default; open a new session']);
    await virsh.close();
  });

  test('close() lets queued commands finish, quits virsh, and refuses later commands', async () => {
    const virsh = await openVirsh({ uri: TEST_URI });
    const queued = virsh.run(['echo', 'before close']);
    const closed = virsh.close();
    expect((await queued).stdout).toBe('before close');
    await closed;
    expect(alive(virsh.pid)).toBe(false);
    const error = await rejection(virsh.run(['echo', 'after close']));
    expect([error.code, error.message]).toEqual(['USAGE', 'the virsh session at test:///default is closed; open a new one to run virsh echo']);
    await virsh.close();
  });

  test('withVirsh closes the session when the callback throws', async () => {
    let pid: number | undefined;
    await expect(
      withVirsh({ uri: TEST_URI }, (virsh) => {
        pid = virsh.pid;
        throw new Error('callback failed');
      }),
    ).rejects.toThrow('callback failed');
    expect(pid).toBeDefined();
    expect(alive(pid)).toBe(false);
  });
});

describe('one process per session', () => {
  test('a whole workflow spawns virsh once', async () => {
    const log = join(dir, 'spawns.log');
    const counting = await writeTemp(dir, 'counting-virsh', '#!/bin/sh\necho "$$" >> "$VN_SPAWN_LOG"\nexec virsh "$@"\n');
    await chmod(counting, 0o755);
    await withVirsh({ uri: TEST_URI, virshPath: counting, env: { VN_SPAWN_LOG: log } }, async (virsh) => {
      expect(await virsh.domstate('test')).toBe('running');
      const xml = await virsh.dumpxml('test', { inactive: true, securityInfo: true });
      expect(await virsh.domcapabilities()).toBeUndefined();
      const file = await writeTemp(dir, 'again.xml', xml);
      await virsh.define(file);
      expect(await virsh.dumpxml('test', { inactive: true, securityInfo: true })).toBe(xml);
      await virsh.destroy('test');
      expect(await virsh.domstate('test')).toBe('shut off');
      await virsh.start('test');
      expect(await virsh.listGuests()).toEqual(['test']);
    });
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
