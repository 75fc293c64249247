/**
 * How the VM harness tells a boot lost to the emulator (which it boots again) from one that virt-nested's
 * scenarios ended. The triple fault is made for real: QEMU runs a 64 KiB firmware whose reset vector loads
 * an empty IDT and executes `ud2`, as the CI run that lost its VM in mid-step saw it (qemu exit 0, nothing on
 * the console).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorFault } from './boot-vm.js';

const quiet = { console: '', qemuLog: '', stalled: false };

test('a boot that ended by its own poweroff is no emulator fault', () => {
  expect(emulatorFault({ ...quiet, console: '[  303.338952] sysrq: Power Off\n[  303.362957] reboot: Power down\n' })).toBeUndefined();
  expect(emulatorFault(quiet)).toBeUndefined();
});

test('stalled CPUs, a panic and a triple fault are emulator faults, each named', () => {
  expect(emulatorFault({ ...quiet, stalled: true })).toBe('its emulated CPUs stalled (soft lockups or RCU stalls)');
  expect(emulatorFault({ ...quiet, console: '[ 12.0] Kernel panic - not syncing: corrupted stack end detected inside scheduler\n[ 12.1] ---[ end' }))
    .toBe('the kernel panicked ("Kernel panic - not syncing: corrupted stack end detected inside scheduler")');
  expect(emulatorFault({ ...quiet, qemuLog: 'CPU Reset (CPU 0)\nEAX=00000000\nTriple fault\n' })).toBe('the emulated CPU triple-faulted, which resets the machine');
});

test("QEMU's own log of a real triple fault is recognized, and qemu ends with exit 0 as in CI", () => {
  const dir = mkdtempSync(join(tmpdir(), 'vn-triple-fault-'));
  try {
    const firmware = Buffer.alloc(65536);
    // at the reset vector (F000:FFF0): lidt cs:[0xFFE0] (six zero bytes: an empty IDT), then ud2
    Buffer.from([0x2e, 0x0f, 0x01, 0x1e, 0xe0, 0xff, 0x0f, 0x0b]).copy(firmware, 0xfff0);
    writeFileSync(join(dir, 'firmware.bin'), firmware);
    const qemu = spawnSync('timeout', ['60', 'qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max', '-bios', join(dir, 'firmware.bin'),
      '-display', 'none', '-monitor', 'none', '-no-reboot', '-nodefaults', '-d', 'cpu_reset', '-D', join(dir, 'qemu.log')], { encoding: 'utf8' });
    expect(qemu.status).toBe(0);
    expect(emulatorFault({ console: '', qemuLog: readFileSync(join(dir, 'qemu.log'), 'utf8'), stalled: false }))
      .toBe('the emulated CPU triple-faulted, which resets the machine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
