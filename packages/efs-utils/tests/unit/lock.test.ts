import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import properLockfile from 'proper-lockfile';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  appendLine,
  EfsUtilsError,
  InvalidArgumentError,
  lock,
  LockCompromisedError,
  LockTimeoutError,
  readLines,
  withLock,
} from '../../src/index.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-unit-'));
  file = join(dir, 'content');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const elapsedSince = (start: number): number => performance.now() - start;

describe('lock', () => {
  it('creates the lock directory while held and removes it on release', async () => {
    const held = await lock(file);
    expect(existsSync(`${file}.lock`)).toBe(true);
    expect(held.held).toBe(true);
    await held.release();
    expect(held.held).toBe(false);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('releases idempotently', async () => {
    const held = await lock(file);
    await held.release();
    await expect(held.release()).resolves.toBeUndefined();
  });

  it('reports a released lock as no longer held', async () => {
    const held = await lock(file);
    await held.release();
    await expect(held.assertHeld()).rejects.toBeInstanceOf(LockCompromisedError);
  });

  it('times out with LockTimeoutError while another holder keeps it', async () => {
    const held = await lock(file);
    const start = performance.now();
    const error = await lock(file, { timeoutMs: 150 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ code: 'ELOCKTIMEOUT', timeoutMs: 150 });
    expect((error as Error).message).toMatch(/retry later|raise timeoutMs/);
    expect(elapsedSince(start)).toBeGreaterThanOrEqual(140);
    await held.release();
  });

  it('tries exactly once with timeoutMs 0', async () => {
    const held = await lock(file);
    // Timers faked and only those due now run: a lock() that waited or backed off before failing
    // would not settle. (Not a bound on elapsed time: a loaded machine makes any call slow.)
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    let outcome: unknown = 'pending';
    try {
      lock(file, { timeoutMs: 0 }).then(
        () => (outcome = 'held'),
        (error: unknown) => (outcome = error),
      );
      await vi.advanceTimersByTimeAsync(0);
    } finally {
      vi.useRealTimers();
    }
    expect(outcome).toBeInstanceOf(LockTimeoutError);
    await held.release();
    const again = await lock(file, { timeoutMs: 0 });
    await again.release();
  });

  it('lets shared holders in together and keeps an exclusive one out', async () => {
    const first = await lock(file, { mode: 'shared' });
    const second = await lock(file, { mode: 'shared', timeoutMs: 0 });
    await expect(lock(file, { mode: 'exclusive', timeoutMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError);
    await first.release();
    await expect(lock(file, { mode: 'exclusive', timeoutMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError);
    await second.release();
    const exclusive = await lock(file, { timeoutMs: 0 });
    await expect(lock(file, { mode: 'shared', timeoutMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError);
    await exclusive.release();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('stops waiting when the signal aborts', async () => {
    const held = await lock(file);
    const controller = new AbortController();
    const waiting = lock(file, { signal: controller.signal, timeoutMs: 10_000 });
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    await expect(waiting).rejects.toThrow('caller gave up');
    await held.release();
  });

  it('takes over a lease nobody renewed for staleMs, and not before', async () => {
    // A lease left by a process that died: an entry whose name never changes.
    mkdirSync(`${file}.lock`);
    symlinkSync('dead-host:1', `${file}.lock/x.0123456789abcdef01234567.0`);
    const start = performance.now();
    const held = await lock(file, { staleMs: 300, timeoutMs: 5_000 });
    expect(elapsedSince(start)).toBeGreaterThanOrEqual(300);
    expect(readdirSync(`${file}.lock`)).toHaveLength(1);
    await held.release();
    expect(readdirSync(dir).filter((name) => name.includes('reaped'))).toEqual([]);
  });

  it('removes an empty shared directory left by a dead reader without waiting', async () => {
    mkdirSync(`${file}.lock/shared`, { recursive: true });
    const start = performance.now();
    const held = await lock(file, { staleMs: 20_000, timeoutMs: 40_000 });
    // Not after the lease's staleMs, as for a live reader's entry (half of it: load only slows calls).
    expect(elapsedSince(start)).toBeLessThan(10_000);
    await held.release();
  });

  it('keeps a lease that is renewed longer than staleMs', async () => {
    const held = await lock(file, { staleMs: 200 });
    await expect(lock(file, { staleMs: 200, timeoutMs: 700 })).rejects.toBeInstanceOf(LockTimeoutError);
    await expect(held.assertHeld()).resolves.toBeUndefined();
    await held.release();
  });

  it('sweeps staging directories abandoned long ago by dead processes', async () => {
    const abandoned = join(dir, '.content.lock.deadbeefdeadbeefdeadbeef');
    mkdirSync(abandoned);
    const old = new Date(Date.now() - 24 * 3600_000);
    utimesSync(abandoned, old, old);
    const recent = join(dir, '.content.lock.0123456789abcdef01234567');
    mkdirSync(recent);
    const held = await lock(file);
    await held.release();
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });
});

describe('proper-lockfile interoperability', () => {
  it('keeps a proper-lockfile process out while efs-utils holds the lock', async () => {
    const held = await lock(file);
    writeFileSync(file, '');
    await expect(properLockfile.lock(file, { realpath: false, retries: 0 })).rejects.toMatchObject({ code: 'ELOCKED' });
    expect(await properLockfile.check(file, { realpath: false })).toBe(true);
    await held.release();
    const release = await properLockfile.lock(file, { realpath: false, retries: 0 });
    await release();
  });
});

describe('withLock', () => {
  it('returns what fn returns and releases', async () => {
    await expect(withLock(file, async () => 42)).resolves.toBe(42);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('releases when fn throws and rethrows its error', async () => {
    await expect(
      withLock(file, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('hands fn the held lock', async () => {
    await withLock(file, async (held) => {
      expect(held.held).toBe(true);
      expect(held.path).toBe(file);
      await appendLine(file, 'under my lock', { lock: held });
    });
    expect(readFileSync(file, 'utf8')).toBe('under my lock\n');
  });

  it('serializes concurrent callers in one process', async () => {
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withLock(file, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });
});

describe('appendLine and readLines', () => {
  it('reads a missing file as no lines', async () => {
    await expect(readLines(file)).resolves.toEqual([]);
  });

  it('reads a file in a missing directory as no lines, creating nothing', async () => {
    await expect(readLines(join(dir, 'no', 'such', 'content'))).resolves.toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to append into a missing directory with the file-system error', async () => {
    await expect(appendLine(join(dir, 'missing', 'content'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('appends lines and reads them back in order', async () => {
    await appendLine(file, 'Hello from EFS!');
    await appendLine(file, 'Hello again :)');
    await appendLine(file, '');
    expect(readFileSync(file, 'utf8')).toBe('Hello from EFS!\nHello again :)\n\n');
    await expect(readLines(file)).resolves.toEqual(['Hello from EFS!', 'Hello again :)', '']);
  });

  it('keeps UTF-8 intact', async () => {
    await appendLine(file, 'héllo wörld — 你好 🙂');
    await expect(readLines(file)).resolves.toEqual(['héllo wörld — 你好 🙂']);
  });

  it('leaves out an unterminated fragment left by a writer that died mid-write', async () => {
    writeFileSync(file, 'whole\nhalf a mess');
    await expect(readLines(file)).resolves.toEqual(['whole']);
  });

  it('refuses to append under a lock on another file', async () => {
    await withLock(join(dir, 'other'), async (held) => {
      await expect(appendLine(file, 'x', { lock: held })).rejects.toThrow(/lock the file you write/);
    });
  });

  it('refuses to append under a shared lock', async () => {
    await withLock(
      file,
      async (held) => {
        await expect(appendLine(file, 'x', { lock: held })).rejects.toThrow(/needs an exclusive one/);
      },
      { mode: 'shared' },
    );
  });

  it('reads under a lock the caller holds', async () => {
    await appendLine(file, 'one');
    await withLock(file, async (held) => {
      await expect(readLines(file, { lock: held })).resolves.toEqual(['one']);
    });
  });
});

describe('bad arguments', () => {
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['lock with an empty path', () => lock(''), /must not be empty/],
    ['lock with a non-string path', () => lock(42 as unknown as string), /must be a string path/],
    ['lock with a NUL byte in the path', () => lock('a\0b'), /NUL/],
    ['lock with a negative timeout', () => lock(file, { timeoutMs: -1 }), /timeoutMs must be between 0/],
    ['lock with a NaN timeout', () => lock(file, { timeoutMs: Number.NaN }), /timeoutMs must be a finite number/],
    ['lock with a tiny staleMs', () => lock(file, { staleMs: 5 }), /staleMs must be between 100/],
    ['lock with an unknown mode', () => lock(file, { mode: 'read' as never }), /'exclusive' or 'shared'/],
    ['lock with options that are not an object', () => lock(file, 'fast' as never), /options must be an object/],
    ['lock with a signal that is not an AbortSignal', () => lock(file, { signal: {} as never }), /AbortSignal/],
    ['withLock without a function', () => withLock(file, 'run' as never), /fn must be a function/],
    ['appendLine with a newline', () => appendLine(file, 'two\nlines'), /must not contain/],
    ['appendLine with a carriage return', () => appendLine(file, 'a\rb'), /must not contain/],
    ['appendLine with a non-string line', () => appendLine(file, 7 as never), /line must be a string/],
    ['appendLine with an empty path', () => appendLine('', 'x'), /must not be empty/],
    ['appendLine with a lock that is not a Lock', () => appendLine(file, 'x', { lock: {} as never }), /must be a Lock/],
    ['readLines with a non-string path', () => readLines(null as never), /must be a string path/],
  ];

  it.each(cases)('refuses %s with InvalidArgumentError', async (_name, call, message) => {
    const error = await call().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(EfsUtilsError);
    expect(error).toMatchObject({ code: 'EINVALIDARG' });
    expect((error as Error).message).toMatch(message);
  });

  it('leaves nothing behind after a refused call', async () => {
    await appendLine(file, 'bad\n').catch(() => {});
    expect(readdirSync(dir)).toEqual([]);
  });
});
