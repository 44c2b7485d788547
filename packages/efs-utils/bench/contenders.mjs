// The three ways of appending a line that the benchmark compares, shared by the worker
// processes (bench/worker.mjs) and the syscall-count loop (bench/append-loop.mjs).
import { appendFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const distDir = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * proper-lockfile 4.1.2 options: the peer to beat, tuned to be close to efs-utils.
 * - `realpath: false`: the default (`true`) realpath()s the file first (extra lstat per
 *   path component, and the file must already exist); efs-utils does no such thing.
 * - `stale` and `update` are the defaults (10 s, update every stale/2 = 5 s), as efs-utils'
 *   10 s lease; `lockfilePath` is the default `<file>.lock`.
 * - `retries`: capped exponential backoff 1..16 ms with jitter, like efs-utils'. Spelled
 *   `forever` + 5 steps, not `retries: 100000`: the `retry` package precomputes and sorts one
 *   timeout per retry on every lock() call, which costs ~16 ms per call with 100000 retries
 *   (measured; it would cap proper-lockfile at ~60 locks/s and measure the `retry` package,
 *   not the lock). With `forever`, the 5 timeouts (1-2, 2-4, 4-8, 8-16, 16 ms) repeat until
 *   the lock is taken, so a waiter never gives up, as with 100000 retries.
 */
export const PROPER_LOCKFILE_OPTIONS = Object.freeze({
  realpath: false,
  stale: 10_000,
  retries: Object.freeze({ forever: true, retries: 5, factor: 2, minTimeout: 1, maxTimeout: 16, randomize: true }),
});

/** Padding of each benchmark line `<worker>:<seq>:<padding>`: long enough that a torn or interleaved line shows. */
export const LINE_PADDING = 'x'.repeat(64);

/** @typedef {(file: string, line: string) => Promise<void>} AppendFn */

/** @type {Record<string, () => Promise<AppendFn>>} */
const loaders = {
  /** efs-utils' appendLine from the built package: lock, one write, release. */
  'efs-utils': async () => {
    if (!existsSync(`${distDir}lines.js`)) {
      throw new Error(`${distDir} has no lines.js: build first (pnpm exec tsc -p tsconfig.build.json).`);
    }
    // The public entry point; lines.js directly while index.js does not export it (yet).
    const index = await import('../dist/index.js').catch(() => ({}));
    const { appendLine } = typeof index.appendLine === 'function' ? index : await import('../dist/lines.js');
    return (file, line) => appendLine(file, line);
  },
  /**
   * Shared mode under load: appendLine, then a shared lock taken and released on the same file
   * (the readers' path). With several processes, writers reserve turns after readers (the d.*
   * reservation) and readers queue behind writers.
   */
  'efs-utils-shared': async () => {
    if (!existsSync(`${distDir}index.js`)) {
      throw new Error(`${distDir} has no index.js: build first (pnpm exec tsc -p tsconfig.build.json).`);
    }
    const { appendLine, withLock } = await import('../dist/index.js');
    const read = () => {};
    return async (file, line) => {
      await appendLine(file, line);
      await withLock(file, read, { mode: 'shared' });
    };
  },
  /** proper-lockfile's lock(), the same append as `unlocked`, release(). */
  'proper-lockfile': async () => {
    const { default: lockfile } = await import('proper-lockfile');
    return async (file, line) => {
      const release = await lockfile.lock(file, PROPER_LOCKFILE_OPTIONS);
      try {
        appendFileSync(file, `${line}\n`);
      } finally {
        await release();
      }
    };
  },
  /** No lock: open(O_APPEND), one write, close. The floor for any locked append. */
  unlocked: async () => async (file, line) => appendFileSync(file, `${line}\n`),
};

export const CONTENDERS = Object.freeze(Object.keys(loaders));

/**
 * Returns the append function of a contender.
 * @param {string} name one of CONTENDERS
 * @returns {Promise<AppendFn>}
 */
export async function loadContender(name) {
  const load = loaders[name];
  if (!load) throw new Error(`Unknown contender ${JSON.stringify(name)}; expected one of ${CONTENDERS.join(', ')}.`);
  return load();
}
