// What run.mjs and side-by-side.mjs share: running a load generator (load.mjs or http-load.mjs)
// in its own process, the percentiles of its latencies, and the CPU time and page faults of processes.
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name; throws when the process is gone. */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) of a process so far, ms, from /proc (Linux); undefined elsewhere or when it is gone. */
export function processCpuMs(pid) {
  try {
    const fields = statFields(pid);
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * What `pid` and each of its descendants used so far, by pid (Linux /proc; empty elsewhere):
 * `cpuTicks` (user + system, clock ticks) and `minorFaults` (first touches of memory, which are
 * slow on Firecracker VMs), with `root` telling the process itself from its descendants.
 */
export function usageOfTree(pid) {
  const usage = new Map();
  let entries;
  try {
    entries = readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return usage;
  }
  const parentOf = new Map();
  for (const name of entries) {
    try {
      const fields = statFields(name);
      parentOf.set(Number(name), Number(fields[1]));
      usage.set(Number(name), {
        root: Number(name) === pid,
        cpuTicks: Number(fields[11]) + Number(fields[12]),
        minorFaults: Number(fields[7]),
      });
    } catch {
      // exited meanwhile
    }
  }
  const inTree = (candidate) => {
    for (let at = candidate; at !== undefined && at > 1; at = parentOf.get(at)) if (at === pid) return true;
    return false;
  };
  return new Map([...usage].filter(([candidate]) => inTree(candidate)));
}
