import { platform } from '../platform.js';

/** Monotonic milliseconds: immune to wall-clock jumps, never compared across processes. */
export function monotonicMs(): number {
  return platform.monotonicMs();
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      platform.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = platform.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
