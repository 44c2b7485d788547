// One process of the takeover benchmark, forked by bench/takeover.mjs.
//   hold <case> <file> <staleMs>   takes the lock, says 'held' and keeps it until killed
//   take <case> <file> <staleMs>   says 'ready', waits for the lock, reports when it got it
// <case> is efs-utils (exclusive holder), efs-utils-shared (shared holder; the waiter is
// exclusive either way) or proper-lockfile.
import { PROPER_LOCKFILE_OPTIONS } from './contenders.mjs';

const [role, which, file, staleArg] = process.argv.slice(2);
const staleMs = Number(staleArg);
// One clock for every process of this host: CLOCK_MONOTONIC. performance.timeOrigin is taken per
// process and differs by up to 12 ms between processes (measured), which made touching intervals
// of two holders look overlapping.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const send = (message) => new Promise((resolve, reject) => process.send(message, (error) => (error ? reject(error) : resolve())));

/** @returns {Promise<() => Promise<unknown>>} the lock of this case, for this role; resolves once held */
async function lockFor() {
  if (which === 'proper-lockfile') {
    const { default: lockfile } = await import('proper-lockfile');
    // The same backoff as in the throughput benchmark; stale as efs-utils' staleMs, updated every stale / 2.
    const options = { ...PROPER_LOCKFILE_OPTIONS, stale: staleMs };
    return () => lockfile.lock(file, options);
  }
  const { lock } = await import('../dist/index.js');
  const mode = role === 'hold' && which === 'efs-utils-shared' ? 'shared' : 'exclusive';
  return () => lock(file, { mode, staleMs, timeoutMs: staleMs * 10 });
}

try {
  const take = await lockFor();
  if (role === 'hold') {
    await take();
    await send({ type: 'held', at: now() });
    setInterval(() => {}, 60_000); // stays alive (and renewing) until killed
  } else {
    await send({ type: 'ready', at: now() });
    const held = await take();
    const at = now();
    await (typeof held === 'function' ? held() : held.release());
    await send({ type: 'taken', at });
    process.disconnect();
  }
} catch (error) {
  process.exitCode = 1;
  await send({ type: 'error', message: String(error?.stack ?? error) });
  process.disconnect();
}
