import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lock, LockTimeoutError } from '../../src/index.js';
import { platform, usePlatform, type Platform } from '../../src/platform.js';
import { pausableClock } from '../helpers/pausable-clock.js';

let dir: string;
let restore: Platform | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-drain-'));
});
afterEach(() => {
  if (restore !== undefined) usePlatform(restore);
  restore = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('a writer draining readers', () => {
  // The writer's rmdir of its reservation fails with ENOENT both when its own rmdir's reply was
  // lost and when a waiter reopened the reservation (the writer was too slow to renew it). Only
  // a reservation still fresh after the rmdir rules out the latter; judged before the call, a
  // writer preempted in between took a reopened lock, readers joined, for drained.
  it('does not take a reservation reopened while it was preempted before its rmdir for drained', async () => {
    const staleMs = 1_000;
    const file = join(dir, 'content');
    const reader = await lock(file, { mode: 'shared', staleMs });
    const real = platform;
    const { clock, pause } = pausableClock(real);
    let preempted = false;
    restore = usePlatform({
      ...real,
      ...clock,
      fs: {
        ...real.fs,
        rmdirSync: (path: string) => {
          if (!preempted && basename(path).startsWith('d.')) {
            preempted = true;
            // Preempted for longer than the lease: a waiter reopens the reservation, another reader joins.
            pause(2 * staleMs);
            real.fs.renameSync(path, `${file}.lock/shared`);
            real.fs.symlinkSync('elsewhere:1', `${file}.lock/shared/joined.0`);
          }
          real.fs.rmdirSync(path);
        },
      },
    });
    try {
      const writer = lock(file, { staleMs, timeoutMs: 300 });
      await expect(writer).rejects.toBeInstanceOf(LockTimeoutError);
      expect(preempted).toBe(true);
      expect(readdirSync(`${file}.lock/shared`).sort()).toContain('joined.0');
    } finally {
      await reader.release();
    }
  });
});
