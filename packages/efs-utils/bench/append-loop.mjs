// Appends `count` lines to a file, one after another, in one process, after `warmup`
// appends to the same file (the first efs-utils append creates its staging directory,
// the first proper-lockfile lock probes the mtime precision). bench/run.mjs runs it under
// `strace -f` with N and 3N appends: the difference is the cost of 2N appends.
// Usage: node append-loop.mjs <file> <count> [contender=efs-utils] [warmup=100]
//   contender: efs-utils | proper-lockfile | unlocked (see contenders.mjs)
import { LINE_PADDING, loadContender } from './contenders.mjs';

const [file, countArg, contender = 'efs-utils', warmupArg = '100'] = process.argv.slice(2);
const count = Number(countArg);
const warmup = Number(warmupArg);
if (!file || !Number.isInteger(count) || count < 0 || !Number.isInteger(warmup) || warmup < 0) {
  console.error('Usage: node append-loop.mjs <file> <count> [efs-utils|proper-lockfile|unlocked] [warmup=100]');
  process.exit(2);
}

const append = await loadContender(contender);
for (let i = 0; i < warmup; i++) await append(file, `w:${i}:${LINE_PADDING}`);
for (let i = 0; i < count; i++) await append(file, `0:${i}:${LINE_PADDING}`);
