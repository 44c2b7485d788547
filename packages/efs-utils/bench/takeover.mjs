// Takeover benchmark: how long a waiter needs to get a lock whose holder was killed (SIGKILL),
// measured from the kill. Runs against the built package (dist/): build first. Not part of the tests.
//
//   node bench/takeover.mjs [--rounds 10] [--stale-ms 2000] [--cases efs-utils,efs-utils-shared,proper-lockfile] [--dir <path>]
//
// Each round: a holder process takes the lock and keeps renewing it; a waiter process starts
// waiting (exclusive); after a random 0..staleMs (so the kill falls anywhere in the renewal
// cycle) the holder is killed; the waiter reports when it got the lock. A waiter that gets it
// before the kill makes the run exit 1 (two holders). Cases: `efs-utils` (exclusive holder),
// `efs-utils-shared` (shared holder, the waiter a writer behind it) and `proper-lockfile`
// (stale = staleMs, so its mtime is updated every staleMs / 2, its default).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const WORKER = fileURLToPath(new URL('./takeover-worker.mjs', import.meta.url));
const CASES = ['efs-utils', 'efs-utils-shared', 'proper-lockfile'];

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    'stale-ms': { type: 'string', default: '2000' },
    cases: { type: 'string', default: CASES.join(',') },
    dir: { type: 'string', default: os.tmpdir() },
  },
});
const rounds = Number(flags.rounds);
const staleMs = Number(flags['stale-ms']);
const cases = flags.cases.split(',');
// proper-lockfile refuses a stale below 2000 ms.
if (!(Number.isInteger(rounds) && rounds > 0) || !(staleMs >= 2000))
  throw new Error('--rounds must be a positive integer and --stale-ms at least 2000.');
for (const name of cases)
  if (!CASES.includes(name)) throw new Error(`Unknown case ${JSON.stringify(name)}; expected one of ${CASES.join(', ')}.`);

// One clock for every process of this host: CLOCK_MONOTONIC. performance.timeOrigin is taken per
// process and differs by up to 12 ms between processes (measured), which made touching intervals
// of two holders look overlapping.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A forked worker and its messages, in order. */
function start(role, which, file) {
  const child = fork(WORKER, [role, which, file, String(staleMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages = [];
  const waiting = [];
  child.on('message', (message) => (waiting.length > 0 ? waiting.shift()(message) : messages.push(message)));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const next = async () => {
    const message =
      messages.shift() ??
      (await Promise.race([
        new Promise((resolve) => waiting.push(resolve)),
        exited.then(() => ({ type: 'error', message: `${role} exited` })),
      ]));
    if (message.type === 'error') throw new Error(`${which} ${role}: ${message.message}`);
    return message;
  };
  return { child, next, exited };
}

async function round(which) {
  const dir = mkdtempSync(join(flags.dir, 'efs-utils-takeover-'));
  const file = join(dir, 'content');
  try {
    const holder = start('hold', which, file);
    await holder.next(); // held
    const waiter = start('take', which, file);
    await waiter.next(); // ready: it asks for the lock now
    await sleep(Math.random() * staleMs);
    const killedAt = now();
    holder.child.kill('SIGKILL');
    await holder.exited;
    const { at } = await waiter.next();
    await waiter.exited;
    return at - killedAt;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const rows = [];
let unsafe = false;
for (const which of cases) {
  const times = [];
  for (let i = 0; i < rounds; i++) times.push(await round(which));
  times.sort((a, b) => a - b);
  if (times[0] < 0) unsafe = true;
  const f = (ms) => `${Math.round(ms)} (${(ms / staleMs).toFixed(2)})`;
  rows.push(`| ${which} | ${rounds} | ${f(times[0])} | ${f(quantile(times, 0.5))} | ${f(times.at(-1))} |`);
}
console.log(`Takeover after SIGKILL, staleMs ${staleMs}, ${rounds} rounds per case; ms from the kill to the waiter's lock (in staleMs):\n`);
console.log('| case | rounds | min | median | max |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
console.log(
  `\nload average at the end: ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')}; node ${process.version}`,
);
if (unsafe) {
  console.error('A waiter got the lock before its holder was killed: two holders.');
  process.exit(1);
}
