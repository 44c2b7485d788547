import { InvalidArgumentError } from './errors.js';
import { acquire } from './lock/acquire.js';
import { monotonicMs } from './lock/clock.js';
import { lockLayout } from './lock/layout.js';
import { LocalQueue } from './lock/local-queue.js';
import type { Lock, LockMode } from './types.js';
import { assertOptionalNumber, assertOptions, assertPath, describe } from './validate.js';

export interface LockOptions {
  /**
   * `exclusive` excludes every other holder; `shared` holders overlap each other and
   * exclude exclusive ones.
   * @default 'exclusive'
   */
  mode?: LockMode;
  /**
   * How long to wait for the lock before failing with `LockTimeoutError`. `0` tries once.
   * The default lets a waiter outlast one crashed holder's lease.
   * @default 2 * staleMs
   */
  timeoutMs?: number;
  /**
   * Lease length: a holder renews its lease every `staleMs / 4`; a waiter takes over a
   * lease it has seen unrenewed for `staleMs` on its own clock. Keep the event loop free
   * for longer than this while holding the lock and you may lose it (`assertHeld()` tells).
   * @default 10000
   */
  staleMs?: number;
  /** Aborts waiting for the lock; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const DEFAULT_STALE_MS = 10_000;
const MIN_STALE_MS = 100;
const MAX_MS = 2_147_483_647; // setTimeout's limit

const localQueue = new LocalQueue();

/**
 * Acquires the lock on `path` (the file need not exist). Release it with `release()`.
 *
 * @example
 * const lock = await lock('/mnt/msg/content');
 * try {
 *   await lock.assertHeld(); // before committing anything that depends on the lock
 * } finally {
 *   await lock.release();
 * }
 */
export async function lock(path: string, options?: LockOptions): Promise<Lock> {
  assertPath('path', path);
  const { mode, staleMs, timeoutMs, signal } = resolveLockOptions(options);
  const layout = lockLayout(path);
  const startedAt = monotonicMs();
  let leaveQueue = (): void => {};
  if (mode === 'exclusive') {
    leaveQueue = await localQueue.enter(layout.lockDir, layout.target, timeoutMs, signal);
  }
  try {
    const remainingMs = Math.max(0, timeoutMs - (monotonicMs() - startedAt));
    return await acquire({ layout, mode, staleMs, timeoutMs: remainingMs, signal, onRelease: leaveQueue });
  } catch (error) {
    leaveQueue();
    throw error;
  }
}

/**
 * Runs `fn` while holding the lock on `path`, and releases it when `fn` returns or throws.
 *
 * @example
 * await withLock('/mnt/msg/content', async (held) => {
 *   const lines = await readLines('/mnt/msg/content', { lock: held });
 *   await atomicWriteFile('/mnt/msg/content', lines.slice(-100).join('\n') + '\n', { lock: held });
 * });
 */
export async function withLock<T>(path: string, fn: (lock: Lock) => Promise<T> | T, options?: LockOptions): Promise<T> {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`fn must be a function to run under the lock, got ${describe(fn)}.`);
  }
  const held = await lock(path, options);
  let result: T;
  try {
    result = await fn(held);
  } catch (error) {
    await held.release().catch(() => {});
    throw error;
  }
  await held.release();
  return result;
}

interface ResolvedLockOptions {
  mode: LockMode;
  staleMs: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

function resolveLockOptions(options: LockOptions | undefined): ResolvedLockOptions {
  assertOptions('options', options);
  const mode = options?.mode ?? 'exclusive';
  if (mode !== 'exclusive' && mode !== 'shared') {
    throw new InvalidArgumentError(`options.mode must be 'exclusive' or 'shared', got ${describe(mode)}.`);
  }
  assertOptionalNumber('options.staleMs', options?.staleMs, MIN_STALE_MS, MAX_MS);
  assertOptionalNumber('options.timeoutMs', options?.timeoutMs, 0, MAX_MS);
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`options.signal must be an AbortSignal, got ${describe(signal)}.`);
  }
  const staleMs = options?.staleMs ?? DEFAULT_STALE_MS;
  return { mode, staleMs, timeoutMs: options?.timeoutMs ?? Math.min(2 * staleMs, MAX_MS), signal };
}
