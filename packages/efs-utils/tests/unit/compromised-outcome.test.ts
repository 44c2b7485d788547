import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendLine, LockCompromisedError } from '../../src/index.js';
import { APPEND_EXISTING, platform, usePlatform, type Platform } from '../../src/platform.js';
import { pausableClock } from '../helpers/pausable-clock.js';

// A holder paused past its lease while another process took the lock over: the clock jumps by
// twice staleMs and the holder's lease entry disappears (reaped by the taker-over), either just
// before appendLine's write or just after it. The error must tell which.
const staleMs = 1_000;
let dir: string;
let file: string;
let restore: Platform | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-outcome-'));
  file = join(dir, 'content');
});
afterEach(() => {
  if (restore !== undefined) usePlatform(restore);
  restore = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Installs a platform whose `when` hook loses the lease (once) around the append's write. */
function loseLeaseAt(when: 'before the write' | 'after the write'): void {
  const real = platform;
  const { clock, pause } = pausableClock(real);
  let lost = false;
  const loseLease = (): void => {
    if (lost) return;
    lost = true;
    pause(2 * staleMs);
    for (const entry of readdirSync(`${file}.lock`)) if (entry.startsWith('x.')) rmSync(`${file}.lock/${entry}`);
  };
  restore = usePlatform({
    ...real,
    ...clock,
    fs: {
      ...real.fs,
      openSync: (path, flags, mode) => {
        const fd = real.fs.openSync(path, flags, mode);
        if (when === 'before the write' && path === file && flags === APPEND_EXISTING) loseLease();
        return fd;
      },
      writeSync: (fd, data, offset, length) => {
        const written = real.fs.writeSync(fd, data, offset, length);
        if (when === 'after the write') loseLease();
        return written;
      },
    },
  });
}

describe('LockCompromisedError says whether the operation took effect', () => {
  it("is 'not-done' when the lease is lost before the write, and nothing is written", async () => {
    await appendLine(file, 'first', { staleMs });
    loseLeaseAt('before the write');
    const error = await appendLine(file, 'second', { staleMs }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockCompromisedError);
    expect((error as LockCompromisedError).outcome).toBe('not-done');
    expect((error as Error).message).toMatch(/Nothing was written; take the lock again and redo the operation/);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
  });

  it("is 'unknown' when the lease cannot be confirmed after the write, which did land", async () => {
    await appendLine(file, 'first', { staleMs });
    loseLeaseAt('after the write');
    const error = await appendLine(file, 'second', { staleMs }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockCompromisedError);
    expect((error as LockCompromisedError).outcome).toBe('unknown');
    expect((error as Error).message).toMatch(/may or may not have taken effect: take the lock again and look/);
    expect((error as Error).message).not.toMatch(/Nothing was written/);
    // Here it did land: redoing it blindly would write it twice.
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n');
  });
});
