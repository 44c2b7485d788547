// What run.mjs and side-by-side.mjs share: running a load generator (load.mjs or http-load.mjs)
// in its own process, and the percentiles of its latencies.
import { fork } from 'node:child_process';

/** Forks the generator `script` with `options`, starts it once it is ready, resolves with its report. */
export function runLoad(script, options) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message) => {
      if (message === 'ready') child.send('go');
      else resolve(message);
    });
    child.on('error', reject);
    child.on('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
  });
}

/** The p-th percentile of ascending `sorted`. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
