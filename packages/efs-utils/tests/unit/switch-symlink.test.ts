import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { switchSymlink } from '../../src/switch-symlink.js';
import { fsError, fsFaults } from '../helpers/fs-faults.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { wrapFsPromises } = await import('../helpers/fs-faults.js');
  return wrapFsPromises(await importOriginal());
});

let dir: string;
let current: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-switch-symlink-'));
  for (const version of ['v1', 'v2']) {
    mkdirSync(join(dir, 'releases', version), { recursive: true });
    writeFileSync(join(dir, 'releases', version, 'VERSION'), version);
  }
  current = join(dir, 'current');
});

afterEach(() => {
  fsFaults.reset();
  rmSync(dir, { recursive: true, force: true });
});

const entries = (): string[] => readdirSync(dir).sort();

describe('switchSymlink', () => {
  it('creates the link when it does not exist yet', async () => {
    await switchSymlink(current, 'releases/v1');
    expect(readlinkSync(current)).toBe('releases/v1');
    expect(readFileSync(join(current, 'VERSION'), 'utf8')).toBe('v1');
    expect(entries()).toEqual(['current', 'releases']);
  });

  it('repoints an existing link and leaves no temp link', async () => {
    symlinkSync('releases/v1', current);
    await switchSymlink(current, 'releases/v2');
    expect(readFileSync(join(current, 'VERSION'), 'utf8')).toBe('v2');
    expect(entries()).toEqual(['current', 'releases']);
  });

  it('accepts a target that does not exist yet', async () => {
    await switchSymlink(current, 'releases/v9');
    expect(readlinkSync(current)).toBe('releases/v9');
  });

  it('refuses a real directory at linkPath and says what to do', async () => {
    mkdirSync(current);
    writeFileSync(join(current, 'keep'), 'x');
    const error: unknown = await switchSymlink(current, 'releases/v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/is a real directory.*only replaces symlinks.*atomicMove.*removeTree/);
    expect(readdirSync(current)).toEqual(['keep']);
    expect(entries()).toEqual(['current', 'releases']);
  });

  it('refuses a regular file at linkPath rather than discard it', async () => {
    writeFileSync(current, 'data');
    await expect(switchSymlink(current, 'releases/v1')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(readFileSync(current, 'utf8')).toBe('data');
  });

  it('refuses a directory created at linkPath after the check, and removes the temp link', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op === 'rename') mkdirSync(current);
      return real();
    });
    await expect(switchSymlink(current, 'releases/v1')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(entries()).toEqual(['current', 'releases']);
  });

  it('keeps the old link and removes the temp link when the rename fails', async () => {
    symlinkSync('releases/v1', current);
    fsFaults.intercept((call, real) => (call.op === 'rename' ? Promise.reject(fsError('EIO', call)) : real()));
    await expect(switchSymlink(current, 'releases/v2')).rejects.toMatchObject({ code: 'EIO' });
    expect(readlinkSync(current)).toBe('releases/v1');
    expect(entries()).toEqual(['current', 'releases']);
  });

  it('resolves when a retried rename reports ENOENT after the first one succeeded', async () => {
    symlinkSync('releases/v1', current);
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'rename') return real();
      await real();
      throw fsError('ENOENT', call);
    });
    await switchSymlink(current, 'releases/v2');
    expect(readlinkSync(current)).toBe('releases/v2');
    expect(entries()).toEqual(['current', 'releases']);
  });

  it('propagates each failing fs call and leaves the old link or the new one, never a temp link', async () => {
    symlinkSync('releases/v1', current);
    fsFaults.record();
    await switchSymlink(current, 'releases/v2');
    const ops = fsFaults.calls.map((c) => c.op);
    const renameAt = ops.indexOf('rename');
    for (const [index, op] of ops.entries()) {
      rmSync(current);
      symlinkSync('releases/v1', current);
      fsFaults.failNth(index, 'EIO');
      await expect(switchSymlink(current, 'releases/v2'), `failure of ${op}`).rejects.toMatchObject({ code: 'EIO' });
      fsFaults.reset();
      expect(readlinkSync(current), `failure of ${op}`).toBe(index <= renameAt ? 'releases/v1' : 'releases/v2');
      expect(entries(), `failure of ${op}`).toEqual(['current', 'releases']);
      expect(fsFaults.openHandleCount).toBe(0);
    }
  });

  describe('argument checks', () => {
    const call = switchSymlink as (...args: unknown[]) => Promise<void>;

    it.each([
      ['an empty linkPath', ['', 'x'], /linkPath must not be empty/],
      ['a non-string target', ['l', 7], /target must be a string path, got number 7/],
      ['an empty target', ['l', ''], /target must not be empty/],
      ['a NUL byte in target', ['l', 'a\0'], /target must not contain a NUL byte/],
    ])('refuses %s with InvalidArgumentError', async (_label, args, message) => {
      const error: unknown = await call(...args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    });
  });
});
