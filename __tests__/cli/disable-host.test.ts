import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { copyFixture, removeCopies } from '../host/fixture-trees.js';
import { schemaErrors } from '../helpers/json-schema.js';

afterEach(removeCopies);

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env, isTTY: false, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

const KVM_CONF = 'etc/modprobe.d/kvm.conf';

test('--dry-run prints the plan with a diff, exit 0, and changes nothing', async () => {
  const root = await copyFixture('amd-nested-1');
  const io = capture();
  expect(await main(['disable-host', '--dry-run', '--reload', '--root', root], io)).toBe(0);
  expect(io.out).toBe(
    '– would create /etc/modprobe.d/kvm.conf to set nested=0 for kvm_amd\n' +
      '– would reload kvm_amd: modprobe -r kvm_amd, then modprobe kvm_amd\n' +
      '--- /dev/null\n' +
      '+++ /etc/modprobe.d/kvm.conf\n' +
      '@@ -0,0 +1,1 @@\n' +
      '+options kvm_amd nested=0\n' +
      'dry run: nothing was changed\n',
  );
  expect(await readdir(root)).not.toContain('etc');
});

test('writes nested=0 (the user\'s spelling kept), then check-host agrees that it is off at the next load; the second run changes nothing', async () => {
  const root = await copyFixture('intel-nested-on');
  const io = capture();
  expect(await main(['disable-host', '--root', root], io)).toBe(0);
  expect(io.out).toBe(
    '✓ updated /etc/modprobe.d/kvm.conf, which sets nested=0 for kvm_intel\n' +
      '– kvm_intel was not reloaded, so nested=0 applies at its next load\n' +
      '  fix: run: virt-nested disable-host --reload\n',
  );
  expect(await readFile(join(root, KVM_CONF), 'utf8')).toBe('options kvm_intel nested=0\n');
  const check = capture();
  expect(await main(['check-host', '-c', 'test:///default', '--root', root], check)).toBe(1);
  expect(check.out).toContain('✗ /etc/modprobe.d/kvm.conf line 1 sets nested=0 for kvm_intel, so nested virtualization is off after the next load\n');
  const again = capture();
  expect(await main(['disable-host', '--root', root], again)).toBe(0);
  expect(again.out.split('\n')[0]).toBe('✓ /etc/modprobe.d/kvm.conf already turns nested off for kvm_intel');
});

test('--json: one document, valid against its schema, also for a refusal', async () => {
  const root = await copyFixture('amd-nested-1');
  const io = capture();
  expect(await main(['disable-host', '--json', '--root', root], io)).toBe(0);
  const document = JSON.parse(io.out) as Record<string, unknown>;
  expect(schemaErrors('disable-host', document)).toEqual([]);
  expect(document).toMatchObject({ schemaVersion: 1, ok: true, module: 'kvm_amd', persistent: { verdict: 'off' } });
  const arm = await copyFixture('aarch64');
  const refused = capture();
  expect(await main(['disable-host', '--json', '--root', arm], refused)).toBe(1);
  expect(JSON.parse(refused.out)).toEqual({
    schemaVersion: 1,
    ok: false,
    checks: [],
    error: { code: 'HOST_UNSUPPORTED', message: 'nested virtualization is only supported on x86, and this CPU is aarch64, so disable-host changed nothing' },
  });
  expect(schemaErrors('disable-host', JSON.parse(refused.out))).toEqual([]);
});
