import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ArchiveError, ArchiveLimitError, extractTarGz, packDirectory, packDirectoryToFile } from '../../src/archive/index.js';
import { chunked, rawHeader, rawTar, rawTarGz } from '../helpers/tar.js';

const run = promisify(execFile);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function makeRelease(root: string): Promise<void> {
  await mkdir(join(root, 'optimized'), { recursive: true });
  await writeFile(join(root, 'model.onnx'), Buffer.alloc(70_000, 7));
  await writeFile(join(root, 'labels.txt'), 'red\ngreen\n');
  await writeFile(join(root, 'optimized', 'x.onnx'), 'optimized');
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(root, 'run.sh'), 0o700);
  await symlink('../labels.txt', join(root, 'optimized', 'labels.txt'));
}

async function extractInto(archive: Buffer, limits = {}): Promise<{ out: string; result: Awaited<ReturnType<typeof extractTarGz>> }> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  await mkdir(out);
  const result = await extractTarGz(chunked(archive), out, { limits });
  return { out, result };
}

describe('packDirectory', () => {
  it('produces byte-identical archives for the same content, whatever the mtimes', async () => {
    const src = join(dir, 'src');
    await makeRelease(src);
    const first = await packDirectory(src);
    await utimes(join(src, 'model.onnx'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await packDirectory(src);
    expect(second.archive.equals(first.archive)).toBe(true);
    expect(first.sha256Hex).toBe(createHash('sha256').update(first.archive).digest('hex'));
    // The gzip header says Unix and has no timestamp on every platform.
    expect(first.archive[9]).toBe(3);
    expect(first.archive.readUInt32LE(4)).toBe(0);
  });

  it('writes the same bytes to a file as in memory', async () => {
    const src = join(dir, 'src');
    await makeRelease(src);
    const inMemory = await packDirectory(src);
    const onDisk = await packDirectoryToFile(src, join(dir, 'release.tar.gz'));
    expect((await readFile(join(dir, 'release.tar.gz'))).equals(inMemory.archive)).toBe(true);
    expect(onDisk.sha256Hex).toBe(inMemory.sha256Hex);
    expect(onDisk.entries).toBe(6);
  });

  it('writes an archive that GNU tar lists as ustar with root-owned, fixed-mode entries', async () => {
    const src = join(dir, 'src');
    await makeRelease(src);
    await writeFile(join(dir, 'a.tar.gz'), (await packDirectory(src)).archive);
    const { stdout } = await run('tar', ['-tvzf', join(dir, 'a.tar.gz'), '--numeric-owner']);
    const lines = stdout.trim().split('\n');
    expect(lines.map((line) => line.split(/\s+/).slice(5).join(' '))).toEqual([
      'labels.txt',
      'model.onnx',
      'optimized/',
      'optimized/labels.txt -> ../labels.txt',
      'optimized/x.onnx',
      'run.sh',
    ]);
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 /);
    expect(lines[5]).toMatch(/^-rwxr-xr-x 0\/0 /);
  });

  it('refuses a symlink that leads outside the directory', async () => {
    const src = join(dir, 'src');
    await mkdir(src);
    await symlink('../../etc/passwd', join(src, 'passwd'));
    await expect(packDirectory(src)).rejects.toThrow(/leads outside the release/);
  });

  it('refuses a FIFO', async () => {
    const src = join(dir, 'src');
    await mkdir(src);
    await run('mkfifo', [join(src, 'pipe')]);
    await expect(packDirectory(src)).rejects.toBeInstanceOf(ArchiveError);
  });
});

describe('extractTarGz', () => {
  it('restores files, modes, directories and inner symlinks, and hashes the compressed bytes', async () => {
    const src = join(dir, 'src');
    await makeRelease(src);
    const packed = await packDirectory(src);
    const { out, result } = await extractInto(packed.archive);
    expect(result).toMatchObject({
      files: 4,
      directories: 1,
      symlinks: 1,
      contentBytes: 70_000 + 10 + 9 + 10,
      sha256Hex: packed.sha256Hex,
    });
    expect((await readFile(join(out, 'model.onnx'))).equals(Buffer.alloc(70_000, 7))).toBe(true);
    expect(await readlink(join(out, 'optimized', 'labels.txt'))).toBe('../labels.txt');
    expect(await readFile(join(out, 'optimized', 'labels.txt'), 'utf8')).toBe('red\ngreen\n');
    expect((await stat(join(out, 'run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(out, 'labels.txt'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(out, 'optimized'))).mode & 0o777).toBe(0o755);
  });

  it('reads an archive made by GNU tar --format=ustar (with ./ entries)', async () => {
    const src = join(dir, 'src');
    await makeRelease(src);
    await run('tar', ['--format=ustar', '-C', src, '-czf', join(dir, 'gnu.tar.gz'), '.']);
    const { out, result } = await extractInto(await readFile(join(dir, 'gnu.tar.gz')));
    expect(result.files).toBe(4);
    expect((await readdir(out)).sort()).toEqual(['labels.txt', 'model.onnx', 'optimized', 'run.sh']);
  });

  it('reads long paths split into the ustar prefix', async () => {
    const src = join(dir, 'src');
    const deep = join(src, 'a'.repeat(60), 'b'.repeat(60));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'c'.repeat(90)), 'deep');
    const { out } = await extractInto((await packDirectory(src)).archive);
    expect(await readFile(join(out, 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(90)), 'utf8')).toBe('deep');
  });

  const refusals: Array<[string, Buffer, RegExp]> = [
    ['refuses an archive entry with ..', rawTarGz([{ name: 'x/../../evil', data: 'x' }]), /contains "\.\."/],
    ['refuses an archive entry with ../ at the start', rawTarGz([{ name: '../evil', data: 'x' }]), /contains "\.\."/],
    ['refuses an absolute path', rawTarGz([{ name: '/etc/evil', data: 'x' }]), /absolute path/],
    ['refuses an absolute symlink', rawTarGz([{ name: 'passwd', type: '2', linkName: '/etc/passwd' }]), /absolute path/],
    ['refuses a symlink climbing out of the release', rawTarGz([{ name: 'a/up', type: '2', linkName: '../../etc' }]), /leads outside/],
    [
      'refuses a symlink with .. after a name (the name could be a symlink)',
      rawTarGz([
        { name: 'dot', type: '2', linkName: 'sub' },
        { name: 'up', type: '2', linkName: 'dot/../x' },
      ]),
      /after its start/,
    ],
    [
      'refuses an entry written through a symlink',
      rawTarGz([
        { name: 'link', type: '2', linkName: 'sub' },
        { name: 'link/file', data: 'x' },
      ]),
      /is a symlink/,
    ],
    [
      'refuses a hard link',
      rawTarGz([
        { name: 'a', data: 'x' },
        { name: 'b', type: '1', linkName: 'a' },
      ]),
      /hard link/,
    ],
    ['refuses a character device', rawTarGz([{ name: 'null', type: '3' }]), /character device/],
    ['refuses a FIFO', rawTarGz([{ name: 'pipe', type: '6' }]), /FIFO/],
    [
      'refuses a duplicate file entry',
      rawTarGz([
        { name: 'a', data: 'x' },
        { name: 'a', data: 'y' },
      ]),
      /two entries for a/,
    ],
    [
      'refuses a duplicate directory entry',
      rawTarGz([
        { name: 'd/', type: '5' },
        { name: 'd/', type: '5' },
      ]),
      /two entries for d/,
    ],
    [
      'refuses a file replacing a directory',
      rawTarGz([
        { name: 'd/', type: '5' },
        { name: 'd', data: 'x' },
      ]),
      /two entries for d|is a directory/,
    ],
    ['refuses pax extension headers', rawTarGz([{ name: 'PaxHeader', type: 'x', data: '20 path=evil\n' }]), /pax or GNU/],
    ['refuses an archive without its end marker (truncated tar)', rawTarGz([{ name: 'a', data: 'x' }], { end: false }), /truncated/],
    [
      'refuses data after the end marker',
      gzipSync(Buffer.concat([rawTar([{ name: 'a', data: 'x' }]), Buffer.from('junk')])),
      /after its end-of-archive/,
    ],
    [
      'refuses a file whose contents are cut short',
      gzipSync(rawTar([{ name: 'a', data: 'x'.repeat(600) }]).subarray(0, 512 + 100)),
      /truncated/,
    ],
    [
      'refuses a header with a wrong checksum',
      gzipSync(Buffer.concat([Buffer.from(rawHeader({ name: 'a' }).fill(0x41, 0, 1)), Buffer.alloc(1024)])),
      /checksum/,
    ],
    ['refuses what is not gzip', Buffer.from('this is not a gzip stream at all'), /not valid gzip|truncated/],
  ];
  for (const [name, archive, message] of refusals) {
    it(name, async () => {
      const error = await extractInto(archive).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ArchiveError);
      expect((error as Error).message).toMatch(message);
      // Nothing was written outside the destination directory.
      expect((await readdir(dir)).filter((n) => !n.startsWith('out-'))).toEqual([]);
    });
  }

  it('refuses a truncated gzip stream', async () => {
    const src = join(dir, 'src');
    await makeRelease(src);
    const { archive } = await packDirectory(src);
    const error = await extractInto(archive.subarray(0, archive.length - 40)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toMatch(/truncated/);
  });

  it('stops a file-count bomb at the entry limit', async () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}`, data: '' }));
    const error = await extractInto(rawTarGz(entries), { maxEntries: 1000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveLimitError);
    expect((error as Error).message).toMatch(/more than 1000 entries/);
  });

  it('stops a bytes bomb before writing past the byte limit', async () => {
    // 64 MiB of zeros compress to about 64 KiB.
    const bomb = gzipSync(
      Buffer.concat([rawHeader({ name: 'zeros', size: 64 * 1024 * 1024 }), Buffer.alloc(64 * 1024 * 1024), Buffer.alloc(1024)]),
    );
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const error = await extractInto(bomb, { maxBytes: 1024 * 1024 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveLimitError);
    const out = (await readdir(dir)).find((n) => n.startsWith('out-'));
    expect(await readdir(join(dir, out ?? ''))).toEqual([]);
  });

  it('refuses a path longer than the path limit', async () => {
    const error = await extractInto(rawTarGz([{ name: 'a'.repeat(90), data: 'x' }]), { maxPathLength: 64 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ArchiveLimitError);
  });
});
