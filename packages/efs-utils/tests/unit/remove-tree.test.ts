import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { removeTree } from '../../src/remove-tree.js';
import { fsError, fsFaults } from '../helpers/fs-faults.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { wrapFsPromises } = await import('../helpers/fs-faults.js');
  return wrapFsPromises(await importOriginal());
});

let dir: string;
let tree: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-remove-tree-'));
  tree = join(dir, 'v6');
  mkdirSync(join(tree, 'a', 'b'), { recursive: true });
  writeFileSync(join(tree, 'a', 'b', 'weights.bin'), 'w');
  writeFileSync(join(tree, 'top.txt'), 't');
});

afterEach(() => {
  fsFaults.reset();
  rmSync(dir, { recursive: true, force: true });
});

const TRASH = /^\.v6\.[0-9a-f]{24}\.trash$/;

describe('removeTree', () => {
  it('removes a whole tree and leaves nothing in the parent', async () => {
    await removeTree(tree);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes a single file', async () => {
    await removeTree(join(tree, 'top.txt'));
    expect(existsSync(join(tree, 'top.txt'))).toBe(false);
  });

  it('resolves for a missing path, and twice in a row', async () => {
    await removeTree(join(dir, 'never-existed'));
    await removeTree(tree);
    await removeTree(tree);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('resolves for a path under a missing directory', async () => {
    await removeTree(join(dir, 'no', 'such', 'thing'));
  });

  it('removes a symlink itself and never what it points to', async () => {
    symlinkSync('v6', join(dir, 'current'));
    await removeTree(join(dir, 'current'));
    expect(readdirSync(dir)).toEqual(['v6']);
    expect(readFileSync(join(tree, 'top.txt'), 'utf8')).toBe('t');
  });

  it('frees the name before deleting, under a hidden trash name in the same parent', async () => {
    const seen: { trash: string; nameFree: boolean }[] = [];
    fsFaults.intercept(async (call, real) => {
      if (call.op === 'rm') seen.push({ trash: String(call.args[0]), nameFree: !existsSync(tree) });
      return real();
    });
    await removeTree(tree);
    expect(seen).toHaveLength(1);
    expect(dirname(seen[0]!.trash)).toBe(dir);
    expect(basename(seen[0]!.trash)).toMatch(TRASH);
    expect(seen[0]!.nameFree).toBe(true);
  });

  it('keeps the original name free and the hidden trash when the deletion fails', async () => {
    fsFaults.intercept((call, real) => (call.op === 'rm' ? Promise.reject(fsError('EBUSY', call)) : real()));
    await expect(removeTree(tree)).rejects.toMatchObject({ code: 'EBUSY' });
    fsFaults.reset();
    expect(existsSync(tree)).toBe(false);
    const left = readdirSync(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(TRASH);
    expect(readFileSync(join(dir, left[0]!, 'top.txt'), 'utf8')).toBe('t');
    mkdirSync(tree);
  });

  it('propagates a failed rename and leaves the tree untouched', async () => {
    fsFaults.intercept((call, real) => (call.op === 'rename' ? Promise.reject(fsError('EACCES', call)) : real()));
    await expect(removeTree(tree)).rejects.toMatchObject({ code: 'EACCES' });
    expect(readdirSync(dir)).toEqual(['v6']);
  });

  it('still deletes the trash when a retried rename reports ENOENT after the first one succeeded', async () => {
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'rename') return real();
      await real();
      throw fsError('ENOENT', call);
    });
    await removeTree(tree);
    expect(readdirSync(dir)).toEqual([]);
  });

  describe('argument checks', () => {
    const call = removeTree as (...args: unknown[]) => Promise<void>;

    it.each([
      ['an empty path', [''], /path must not be empty/],
      ['a non-string path', [undefined], /path must be a string path, got undefined/],
      ['a NUL byte', ['a\0b'], /must not contain a NUL byte/],
      ['the file system root', ['/'], /file system root/],
    ])('refuses %s with InvalidArgumentError', async (_label, args, message) => {
      const error: unknown = await call(...args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    });
  });
});
