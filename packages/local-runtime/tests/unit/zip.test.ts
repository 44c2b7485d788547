import { describe, expect, it } from 'vitest';

import { InvalidPackageError } from '../../src/index.js';
import { readZip } from '../../src/packages/zip.js';
import { makeZip, type TestZipEntry } from '../helpers/zip.js';

const LIMITS = { maxTotalBytes: 1024 * 1024, maxEntries: 100 };

function read(entries: readonly TestZipEntry[], limits = LIMITS) {
  return readZip(makeZip(entries), limits);
}

function refusal(entries: readonly TestZipEntry[], limits = LIMITS): string {
  try {
    const items = read(entries, limits);
    for (const item of items) item.data();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPackageError);
    return (error as InvalidPackageError).problem;
  }
  throw new Error('the archive was accepted');
}

describe('readZip', () => {
  it('reads stored and deflated files, directories and symlinks with their modes', () => {
    const items = read([
      { name: 'handler.mjs', data: 'export const handler = () => 1;' },
      { name: 'bin/', mode: 0o040755 },
      { name: 'bin/tool', data: '#!/bin/sh\n', mode: 0o100755, method: 'stored' },
      { name: 'lib/libx.so.1', data: Buffer.alloc(2048, 7) },
      { name: 'lib/libx.so', data: 'libx.so.1', mode: 0o120777 },
    ]);
    expect(items.map(({ path, type, mode, size }) => ({ path, type, mode, size }))).toEqual([
      { path: 'handler.mjs', type: 'file', mode: 0o644, size: 31 },
      { path: 'bin', type: 'directory', mode: 0o755, size: 0 },
      { path: 'bin/tool', type: 'file', mode: 0o755, size: 10 },
      { path: 'lib/libx.so.1', type: 'file', mode: 0o644, size: 2048 },
      { path: 'lib/libx.so', type: 'symlink', mode: 0o777, size: 9 },
    ]);
    expect(items[2]?.data().toString()).toBe('#!/bin/sh\n');
    expect(items[3]?.data().equals(Buffer.alloc(2048, 7))).toBe(true);
    expect(items[4]?.data().toString()).toBe('libx.so.1');
  });

  it('takes default modes (0644, 0755) from archives not made on Unix', () => {
    const items = read([
      { name: 'dir/', host: 0, mode: 0 },
      { name: 'dir/a.js', host: 0, mode: 0 },
    ]);
    expect(items.map((item) => [item.type, item.mode])).toEqual([
      ['directory', 0o755],
      ['file', 0o644],
    ]);
  });

  it('drops setuid, setgid and sticky bits', () => {
    expect(read([{ name: 'x', mode: 0o104755 }])[0]?.mode).toBe(0o755);
  });

  it.each([
    ['an absolute path', [{ name: '/etc/passwd' }], /absolute path/],
    ['a drive letter', [{ name: 'C:/x' }], /absolute path/],
    ['a .. segment', [{ name: 'a/../../x' }], /"\.\."/],
    ['a backslash', [{ name: 'a\\b' }], /backslash/],
    ['an empty segment', [{ name: 'a//b' }], /empty or "\."/],
    ['a duplicate name', [{ name: 'a' }, { name: 'a' }], /twice/],
    ['an absolute symlink', [{ name: 'link', data: '/etc', mode: 0o120777 }], /absolute path/],
    ['a symlink leaving the package', [{ name: 'a/link', data: '../../x', mode: 0o120777 }], /outside the package/],
    ['an entry under a symlink', [{ name: 'link', data: 'dir', mode: 0o120777 }, { name: 'link/x' }], /under "link", which is a symlink/],
    ['an entry under a file', [{ name: 'a' }, { name: 'a/b' }], /under "a", which is a file/],
    ['a file where a directory was implied', [{ name: 'a/b' }, { name: 'a' }], /other entries lie under it/],
    ['a device', [{ name: 'dev', mode: 0o020666 }], /only files, directories and symlinks/],
    ['a fifo', [{ name: 'pipe', mode: 0o010644 }], /only files, directories and symlinks/],
  ])('refuses %s', (_what, entries, problem) => {
    expect(refusal(entries as TestZipEntry[])).toMatch(problem);
  });

  it('refuses a wrong CRC-32', () => {
    expect(refusal([{ name: 'a', data: 'hello', crc: 1 }])).toMatch(/CRC-32/);
  });

  it('refuses more bytes or entries than the limits', () => {
    expect(
      refusal(
        [
          { name: 'a', data: Buffer.alloc(600) },
          { name: 'b', data: Buffer.alloc(600) },
        ],
        { maxTotalBytes: 1000, maxEntries: 10 },
      ),
    ).toMatch(/more than 1000 bytes/);
    expect(refusal([{ name: 'a' }, { name: 'b' }], { maxTotalBytes: 1000, maxEntries: 1 })).toMatch(/2 entries/);
  });

  it('refuses a truncated archive and something that is not a zip', () => {
    const zip = makeZip([{ name: 'a', data: Buffer.alloc(5000, 1) }]);
    expect(() => readZip(zip.subarray(0, zip.length - 30), LIMITS)).toThrow(/not a ZIP archive/);
    expect(() => readZip(Buffer.from('hello, I am not a zip file at all'), LIMITS)).toThrow(InvalidPackageError);
    expect(() => readZip(Buffer.alloc(0), LIMITS)).toThrow(InvalidPackageError);
  });

  it('refuses an entry whose data was cut off', () => {
    const zip = makeZip([{ name: 'a', data: Buffer.alloc(5000, 1), method: 'stored' }]);
    // Keep the central directory and end record, lose the middle of the data.
    const end = zip.subarray(zip.length - 22 - 46 - 1);
    const broken = Buffer.concat([zip.subarray(0, 1000), end]);
    broken.writeUInt32LE(1000, broken.length - 22 + 16);
    expect(() => readZip(broken, LIMITS)).toThrow(/runs past the end|truncated|corrupt/);
  });
});
