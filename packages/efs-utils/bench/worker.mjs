// One benchmark process, forked by bench/run.mjs. It loads its contender, says 'ready' and
// waits for 'go' ({ startAt, warmupMs, durationMs }). From startAt it appends to
// <warmupFile> for warmupMs (JIT, staging directories: the steady state is measured), then
// to <file> for durationMs: lines `<worker>:<seq>:<padding>`, one after another, each
// awaited. It reports its counts and latencies and exits.
// Usage (by run.mjs only): node worker.mjs <contender> <file> <warmupFile> <workerId>
import { LINE_PADDING, loadContender } from './contenders.mjs';

const [contender, file, warmupFile, workerId] = process.argv.slice(2);

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Sends a message to run.mjs and resolves once it is on its way.
 * @param {object} message
 * @returns {Promise<void>}
 */
const send = (message) => new Promise((resolve, reject) => process.send(message, (error) => (error ? reject(error) : resolve())));

/**
 * @param {number[]} sorted ascending
 * @param {number} q quantile in [0, 1]
 */
const quantile = (sorted, q) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

/**
 * Appends lines to `path` until `ms` have passed.
 * @param {(file: string, line: string) => Promise<void>} append
 * @param {string} path
 * @param {number} ms
 * @param {number[]} [latencies] gets each append's duration
 * @returns {Promise<{ count: number, elapsedMs: number }>}
 */
async function appendFor(append, path, ms, latencies) {
  const t0 = performance.now();
  let count = 0;
  let now = t0;
  while (now - t0 < ms) {
    const before = now;
    await append(path, `${workerId}:${count}:${LINE_PADDING}`);
    count += 1; // acknowledged: the append's promise resolved
    now = performance.now();
    latencies?.push(now - before);
  }
  return { count, elapsedMs: now - t0 };
}

async function main() {
  const append = await loadContender(contender);
  const go = new Promise((resolve) => process.once('message', resolve));
  await send({ type: 'ready' });
  const { startAt, warmupMs, durationMs } = await go;
  await sleep(startAt - Date.now()); // every worker starts at the same wall-clock instant
  const warmup = await appendFor(append, warmupFile, warmupMs);
  await sleep(startAt + warmupMs - Date.now()); // and measures from the same instant

  /** @type {number[]} */
  const latencies = [];
  const { count, elapsedMs } = await appendFor(append, file, durationMs, latencies);
  latencies.sort((a, b) => a - b);
  await send({
    type: 'done',
    warmupCount: warmup.count,
    count,
    elapsedMs,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.at(-1) ?? 0,
  });
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  await send({ type: 'error', message: String(error?.stack ?? error) });
}
process.disconnect(); // lets the process exit (efs-utils and proper-lockfile timers are unref'd)
