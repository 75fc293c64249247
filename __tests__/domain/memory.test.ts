import { memoryOf } from '../../src/domain/memory.js';

test.each([
  ['1024', undefined, { kib: 1024, value: 1024, unit: 'KiB' }],
  ['1024', 'KiB', { kib: 1024, value: 1024, unit: 'KiB' }],
  ['1024', 'k', { kib: 1024, value: 1024, unit: 'k' }],
  ['2048', 'b', { kib: 2, value: 2048, unit: 'b' }],
  ['1', 'bytes', { kib: 1, value: 1, unit: 'bytes' }],
  ['1000', 'KB', { kib: 977, value: 1000, unit: 'KB' }],
  ['48', 'MiB', { kib: 49152, value: 48, unit: 'MiB' }],
  ['48', 'M', { kib: 49152, value: 48, unit: 'M' }],
  ['1', 'MB', { kib: 977, value: 1, unit: 'MB' }],
  ['2', 'GiB', { kib: 2097152, value: 2, unit: 'GiB' }],
  ['2', 'G', { kib: 2097152, value: 2, unit: 'G' }],
  ['1', 'GB', { kib: 976563, value: 1, unit: 'GB' }],
  ['1', 'TiB', { kib: 1073741824, value: 1, unit: 'TiB' }],
  ['1', 'TB', { kib: 976562500, value: 1, unit: 'TB' }],
  ['1', 'T', { kib: 1073741824, value: 1, unit: 'T' }],
  ['1', 'PiB', { kib: 1099511627776, value: 1, unit: 'PiB' }],
  [' 512\n', 'mib', { kib: 524288, value: 512, unit: 'mib' }],
])('%j %s', (text, unit, memory) => {
  const result = memoryOf(text, unit);
  expect(result).toEqual(memory);
  expect(Object.isFrozen(result)).toBe(true);
});

test.each([
  ['', 'KiB'],
  ['1.5', 'GiB'],
  ['-1', 'KiB'],
  ['0x10', 'KiB'],
  ['1', 'furlongs'],
])('%j %s is not a memory amount', (text, unit) => {
  expect(memoryOf(text, unit)).toBeUndefined();
});
