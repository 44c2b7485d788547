import type { Platform } from '../../src/platform.js';

/**
 * Both clocks of `real`, able to jump: after `pause(ms)` they read `ms` later, as they would for a
 * process stopped (or starved) that long. Spread `clock` into a platform given to usePlatform.
 */
export function pausableClock(real: Platform): { clock: Pick<Platform, 'monotonicMs' | 'wallMs'>; pause(ms: number): void } {
  let pausedMs = 0;
  return {
    clock: {
      monotonicMs: () => real.monotonicMs() + pausedMs,
      wallMs: () => real.wallMs() + pausedMs,
    },
    pause: (ms) => {
      pausedMs += ms;
    },
  };
}
