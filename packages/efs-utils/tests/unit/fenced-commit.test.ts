import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicMove, atomicWriteFile, InvalidArgumentError, lock, switchSymlink, withLock } from '../../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-fenced-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('commits under one of our locks', () => {
  it('write and switch through the lease’s own temporary name, next to the locked file, and leave nothing behind', async () => {
    const current = join(dir, 'current');
    await withLock(current, async (held) => {
      await Promise.all([
        atomicWriteFile(join(dir, 'history.json'), '{"a":1}\n', { lock: held }),
        atomicWriteFile(join(dir, 'history.json'), '{"a":2}\n', { lock: held }),
        switchSymlink(current, 'releases/v1', { lock: held }),
      ]);
    });
    expect(readFileSync(join(dir, 'history.json'), 'utf8')).toBe('{"a":2}\n');
    expect(readlinkSync(current)).toBe('releases/v1');
    // Besides the process's staging directory, kept for its next lock.
    expect(
      readdirSync(dir)
        .filter((name) => !name.startsWith('.current.lock.'))
        .sort(),
    ).toEqual(['current', 'history.json']);
  });

  it('refuse a lock that cannot fence them, saying what to do', async () => {
    mkdirSync(join(dir, 'other'));
    const elsewhere = await lock(join(dir, 'other', 'file'));
    const shared = await lock(join(dir, 'file'), { mode: 'shared' });
    const exclusive = await lock(join(dir, 'b'));
    try {
      await expect(atomicWriteFile(join(dir, 'file'), 'x', { lock: elsewhere })).rejects.toThrow(
        /in another directory.*lock a file in the same directory/,
      );
      await expect(switchSymlink(join(dir, 'current'), 'v1', { lock: elsewhere })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(atomicWriteFile(join(dir, 'file'), 'x', { lock: shared })).rejects.toThrow(
        /shared lock; writing needs an exclusive one/,
      );
      writeFileSync(join(dir, 'a'), 'a');
      await expect(atomicMove(join(dir, 'a'), join(dir, 'b'), { overwrite: true, lock: exclusive })).rejects.toThrow(
        /cannot be made safe on NFS.*atomicWriteFile/,
      );
      expect(
        readdirSync(dir)
          .filter((name) => !name.startsWith('.'))
          .sort(),
      ).toEqual(['a', 'b.lock', 'file.lock', 'other']);
    } finally {
      await Promise.all([elsewhere.release(), shared.release(), exclusive.release()]);
    }
  });
});
