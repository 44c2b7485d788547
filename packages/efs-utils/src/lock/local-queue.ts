import { LockTimeoutError } from '../errors.js';
import { platform } from '../platform.js';

interface Waiter {
  readonly grant: () => void;
}

/**
 * Serializes exclusive lock requests for one path inside this process, so that a process
 * with many concurrent callers puts one contender on the file system instead of many.
 * This is only an optimization: exclusion between processes comes from the lock directory.
 */
export class LocalQueue {
  readonly #busy = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();

  /** Resolves when the caller may contend for `key`; call the returned function when done. */
  async enter(key: string, path: string, timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    if (!this.#busy.has(key)) {
      this.#busy.add(key);
      return this.#leaveOnce(key);
    }
    await new Promise<void>((resolve, reject) => {
      const queue = this.#waiters.get(key) ?? [];
      this.#waiters.set(key, queue);
      const cancel = (error: unknown): void => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        platform.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = (): void => cancel(signal?.reason);
      const timer = platform.setTimeout(() => cancel(new LockTimeoutError(path, timeoutMs)), timeoutMs);
      const waiter: Waiter = {
        grant: () => {
          platform.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
    return this.#leaveOnce(key);
  }

  /**
   * The turn is handed on once, however often the holder leaves: a failed acquisition may
   * leave both from its lease's release and from lock()'s error path, and handing the turn on
   * twice would let two waiters of this process contend at once.
   */
  #leaveOnce(key: string): () => void {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#leave(key);
    };
  }

  #leave(key: string): void {
    const next = this.#waiters.get(key)?.shift();
    if (next) {
      next.grant();
      return;
    }
    this.#waiters.delete(key);
    this.#busy.delete(key);
  }
}
