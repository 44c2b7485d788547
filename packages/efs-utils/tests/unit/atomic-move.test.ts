import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atomicMove } from '../../src/atomic-move.js';
import { CrossDeviceError, DestinationExistsError, InvalidArgumentError, LockCompromisedError } from '../../src/errors.js';
import { fsError, fsFaults, fakeLock } from '../helpers/fs-faults.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { wrapFsPromises } = await import('../helpers/fs-faults.js');
  return wrapFsPromises(await importOriginal());
});

let dir: string;
let srcFile: string;
let srcDir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-atomic-move-'));
  srcFile = join(dir, 'a.txt');
  writeFileSync(srcFile, 'A');
  srcDir = join(dir, 'tree');
  mkdirSync(join(srcDir, 'sub'), { recursive: true });
  writeFileSync(join(srcDir, 'sub', 'leaf.txt'), 'leaf');
});

afterEach(() => {
  fsFaults.reset();
  rmSync(dir, { recursive: true, force: true });
});

/** Fails every call of `op` with `code`. */
const failOp = (op: string, code: string): void =>
  fsFaults.intercept((call, real) => (call.op === op ? Promise.reject(fsError(code, call)) : real()));

describe('atomicMove', () => {
  it('moves a file without leaving the old name', async () => {
    await atomicMove(srcFile, join(dir, 'b.txt'));
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('A');
    expect(existsSync(srcFile)).toBe(false);
  });

  it('moves a symlink itself, not what it points to', async () => {
    symlinkSync('a.txt', join(dir, 'link'));
    await atomicMove(join(dir, 'link'), join(dir, 'link2'));
    expect(readlinkSync(join(dir, 'link2'))).toBe('a.txt');
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
  });

  it('rejects a move across file systems with CrossDeviceError and leaves the file in place', async () => {
    failOp('link', 'EXDEV');
    const error: unknown = await atomicMove(srcFile, join(dir, 'b.txt')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrossDeviceError);
    expect((error as Error).message).toMatch(/different file systems.*Stage the data on the destination/);
    expect((error as Error).cause).toMatchObject({ code: 'EXDEV' });
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
    expect(existsSync(join(dir, 'b.txt'))).toBe(false);
  });

  it('rejects a directory move across file systems with CrossDeviceError and leaves the tree in place', async () => {
    failOp('rename', 'EXDEV');
    await expect(atomicMove(srcDir, join(dir, 'moved'))).rejects.toBeInstanceOf(CrossDeviceError);
    expect(readFileSync(join(srcDir, 'sub', 'leaf.txt'), 'utf8')).toBe('leaf');
    expect(existsSync(join(dir, 'moved'))).toBe(false);
  });

  it('rejects an overwriting move across file systems with CrossDeviceError', async () => {
    failOp('rename', 'EXDEV');
    await expect(atomicMove(srcFile, join(dir, 'b.txt'), { overwrite: true })).rejects.toBeInstanceOf(CrossDeviceError);
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
  });

  it('refuses an existing file destination and touches neither file', async () => {
    writeFileSync(join(dir, 'b.txt'), 'B');
    const error: unknown = await atomicMove(srcFile, join(dir, 'b.txt')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationExistsError);
    expect((error as Error).message).toMatch(/already exists\. Pass \{ overwrite: true \}/);
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('B');
  });

  it('refuses an existing directory destination, even an empty one', async () => {
    mkdirSync(join(dir, 'dest'));
    await expect(atomicMove(srcDir, join(dir, 'dest'))).rejects.toBeInstanceOf(DestinationExistsError);
    expect(readdirSync(join(dir, 'dest'))).toEqual([]);
    expect(existsSync(join(srcDir, 'sub', 'leaf.txt'))).toBe(true);
  });

  it('refuses a file destination created between the check and the link, never overwriting it', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op === 'link') writeFileSync(join(dir, 'b.txt'), 'theirs');
      return real();
    });
    await expect(atomicMove(srcFile, join(dir, 'b.txt'))).rejects.toBeInstanceOf(DestinationExistsError);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('theirs');
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
  });

  it('refuses a non-empty directory created between the check and the rename', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op === 'rename') {
        mkdirSync(join(dir, 'dest'));
        writeFileSync(join(dir, 'dest', 'theirs'), 'x');
      }
      return real();
    });
    await expect(atomicMove(srcDir, join(dir, 'dest'))).rejects.toBeInstanceOf(DestinationExistsError);
    expect(readdirSync(join(dir, 'dest'))).toEqual(['theirs']);
    expect(existsSync(join(srcDir, 'sub', 'leaf.txt'))).toBe(true);
  });

  it('replaces an empty directory created between the check and the rename (the documented residual race)', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op === 'rename') mkdirSync(join(dir, 'dest'));
      return real();
    });
    await atomicMove(srcDir, join(dir, 'dest'));
    expect(readFileSync(join(dir, 'dest', 'sub', 'leaf.txt'), 'utf8')).toBe('leaf');
  });

  it('replaces a file with overwrite: true', async () => {
    writeFileSync(join(dir, 'b.txt'), 'B');
    await atomicMove(srcFile, join(dir, 'b.txt'), { overwrite: true });
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('A');
    expect(existsSync(srcFile)).toBe(false);
  });

  it('replaces an empty directory with overwrite: true', async () => {
    mkdirSync(join(dir, 'dest'));
    await atomicMove(srcDir, join(dir, 'dest'), { overwrite: true });
    expect(readFileSync(join(dir, 'dest', 'sub', 'leaf.txt'), 'utf8')).toBe('leaf');
  });

  it('tells to removeTree a non-empty destination directory first, even with overwrite: true', async () => {
    mkdirSync(join(dir, 'dest'));
    writeFileSync(join(dir, 'dest', 'old'), 'x');
    const error: unknown = await atomicMove(srcDir, join(dir, 'dest'), { overwrite: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationExistsError);
    expect((error as Error).message).toMatch(/non-empty directory.*removeTree\(to\).*switchSymlink/);
    expect(readdirSync(join(dir, 'dest'))).toEqual(['old']);
    expect(existsSync(join(srcDir, 'sub', 'leaf.txt'))).toBe(true);
  });

  it('tells to remove a directory that stands where a file should go, with overwrite: true', async () => {
    mkdirSync(join(dir, 'dest'));
    const error: unknown = await atomicMove(srcFile, join(dir, 'dest'), { overwrite: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationExistsError);
    expect((error as Error).message).toMatch(/is a directory and the source is not.*removeTree/);
  });

  it('tells to remove a file that stands where a directory should go, with overwrite: true', async () => {
    writeFileSync(join(dir, 'dest'), 'x');
    const error: unknown = await atomicMove(srcDir, join(dir, 'dest'), { overwrite: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationExistsError);
    expect((error as Error).message).toMatch(/not a directory and the source is.*removeTree/);
  });

  it('resolves when a retried rename reports ENOENT after the first one succeeded', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'rename') return real();
      await real();
      throw fsError('ENOENT', call);
    });
    await atomicMove(srcDir, join(dir, 'moved'));
    expect(readFileSync(join(dir, 'moved', 'sub', 'leaf.txt'), 'utf8')).toBe('leaf');
    expect(existsSync(srcDir)).toBe(false);
  });

  it('resolves when a timed-out overwriting rename had happened', async () => {
    writeFileSync(join(dir, 'b.txt'), 'B');
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'rename') return real();
      await real();
      throw fsError('ETIMEDOUT', call);
    });
    await atomicMove(srcFile, join(dir, 'b.txt'), { overwrite: true });
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('A');
  });

  it('resolves when a retried link reports EEXIST for its own link', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'link') return real();
      await real();
      throw fsError('EEXIST', call);
    });
    await atomicMove(srcFile, join(dir, 'b.txt'));
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('A');
    expect(existsSync(srcFile)).toBe(false);
  });

  it('resolves when a retried unlink of the old name reports ENOENT', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'unlink') return real();
      await real();
      throw fsError('ENOENT', call);
    });
    await atomicMove(srcFile, join(dir, 'b.txt'));
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('A');
    expect(existsSync(srcFile)).toBe(false);
  });

  it('undoes the link when the old name cannot be removed, so nothing moved', async () => {
    fsFaults.intercept((call, real) => (call.op === 'unlink' && call.name === 'a.txt' ? Promise.reject(fsError('EACCES', call)) : real()));
    await expect(atomicMove(srcFile, join(dir, 'b.txt'))).rejects.toMatchObject({ code: 'EACCES' });
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
    expect(existsSync(join(dir, 'b.txt'))).toBe(false);
  });

  it('falls back to rename where hard links are refused (EPERM)', async () => {
    failOp('link', 'EPERM');
    await atomicMove(srcFile, join(dir, 'b.txt'));
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('A');
    expect(existsSync(srcFile)).toBe(false);
  });

  it('propagates ENOENT for a missing source as the fs error', async () => {
    const error: unknown = await atomicMove(join(dir, 'nope'), join(dir, 'b.txt')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'lstat' });
    expect(error).not.toBeInstanceOf(InvalidArgumentError);
  });

  it('propagates ENOENT when the source vanishes just before the rename', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op === 'rename') rmSync(srcDir, { recursive: true });
      return real();
    });
    await expect(atomicMove(srcDir, join(dir, 'moved'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'rename' });
    expect(existsSync(join(dir, 'moved'))).toBe(false);
  });

  it('propagates ENOENT when the destination directory is missing', async () => {
    await expect(atomicMove(srcDir, join(dir, 'missing', 'moved'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(srcDir)).toBe(true);
  });

  it('resolves and changes nothing when moving a path onto itself', async () => {
    await atomicMove(srcFile, join(dir, '.', 'a.txt'));
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
    symlinkSync(dir, join(dir, 'alias'));
    await atomicMove(srcFile, join(dir, 'alias', 'a.txt'));
    expect(readFileSync(srcFile, 'utf8')).toBe('A');
  });

  it('checks the lock just before the link or rename, and moves nothing when it was lost', async () => {
    fsFaults.record();
    await atomicMove(srcFile, join(dir, 'b.txt'), { lock: fakeLock(dir) });
    expect(fsFaults.trace).toEqual(['lstat:a.txt', 'lstat:b.txt', 'lock.assertHeld', 'link:a.txt', 'unlink:a.txt']);

    const lost = fakeLock(dir, async () => {
      throw new LockCompromisedError(dir, 'taken over');
    });
    await expect(atomicMove(srcDir, join(dir, 'moved'), { lock: lost })).rejects.toBeInstanceOf(LockCompromisedError);
    await expect(atomicMove(join(dir, 'b.txt'), srcFile, { overwrite: true, lock: lost })).rejects.toBeInstanceOf(LockCompromisedError);
    expect(lstatSync(srcDir).isDirectory()).toBe(true);
    expect(existsSync(join(dir, 'moved'))).toBe(false);
    expect(existsSync(srcFile)).toBe(false);
  });

  describe('argument checks', () => {
    const call = atomicMove as (...args: unknown[]) => Promise<void>;

    it.each([
      ['an empty from', ['', 'b'], /from must not be empty/],
      ['a non-string to', ['a', null], /to must be a string path, got null/],
      ['a NUL byte in to', ['a', 'b\0'], /to must not contain a NUL byte/],
      ['options that are not an object', ['a', 'b', true], /options must be an object, got boolean true/],
      ['a non-boolean overwrite', ['a', 'b', { overwrite: 'yes' }], /options.overwrite must be true or false/],
      ['a lock that is not a Lock', ['a', 'b', { lock: 'x' }], /options.lock must be a Lock/],
    ])('refuses %s with InvalidArgumentError', async (_label, args, message) => {
      const error: unknown = await call(...args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    });
  });
});
