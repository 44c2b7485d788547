// Benchmark of locked appends: efs-utils' appendLine vs proper-lockfile vs no lock at all.
// Runs against the built package (dist/): build first. Not part of the tests.
//
//   node bench/run.mjs [--duration <s>] [--warmup <s>] [--procs 1,8] [--dir <path>]
//                      [--contenders efs-utils,efs-utils-shared,proper-lockfile,unlocked]
//                      [--strace-n <N>] [--skip-strace]
//
//   --duration    seconds each case appends for (default 5, or env BENCH_DURATION)
//   --warmup      seconds each case appends to another file first, unmeasured (default 1):
//                 8 cold Node processes compiling on 2 cores are several times slower
//   --procs       worker process counts to run (default 1,8)
//   --dir         where the fresh temp directories go (default os.tmpdir(), a local disk
//                 here); e.g. --dir /dev/shm to measure on tmpfs
//   --contenders  which contenders to run (default all four)
//   --strace-n    N for the syscall count: runs of N and 3N appends (default 2000)
//   --skip-strace skip the syscall count
//
// 1. Throughput: for each contender and process count, worker processes (bench/worker.mjs)
//    start together, warm up on one file, then append `<worker>:<seq>:<padding>` lines to
//    another file, each append awaited, for the duration. Afterwards both files are
//    verified: every line intact, each worker's lines in order with contiguous seqs, as
//    many as it acknowledged. A broken file for a locked contender makes the run exit 1;
//    for `unlocked` it is only reported.
// 2. Syscalls: `strace -f -y` on bench/append-loop.mjs with N and with 3N appends (after a
//    warm-up); per append = (calls(3N) - calls(N)) / 2N, by syscall.
// Prints the results as Markdown, with a warning if dist/ was rebuilt during the run.
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONTENDERS, LINE_PADDING, PROPER_LOCKFILE_OPTIONS } from './contenders.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const LOOP = fileURLToPath(new URL('./append-loop.mjs', import.meta.url));
const LOCKED = new Set(['efs-utils', 'efs-utils-shared', 'proper-lockfile']);
/** Appends before the counted ones in each strace run. */
const STRACE_WARMUP = 200;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '5' },
    warmup: { type: 'string', default: '1' },
    procs: { type: 'string', default: '1,8' },
    dir: { type: 'string', default: os.tmpdir() },
    contenders: { type: 'string', default: CONTENDERS.join(',') },
    'strace-n': { type: 'string', default: '2000' },
    'skip-strace': { type: 'boolean', default: false },
  },
});
const durationMs = Number(flags.duration) * 1000;
const warmupMs = Number(flags.warmup) * 1000;
const procCounts = flags.procs.split(',').map(Number);
const contenders = flags.contenders.split(',');
const straceN = Number(flags['strace-n']);
if (!(durationMs > 0) || !(warmupMs >= 0) || !procCounts.every((n) => Number.isInteger(n) && n > 0) || !(straceN > 0)) {
  throw new Error('--duration, --procs and --strace-n must be positive numbers, --warmup not negative.');
}
for (const name of contenders) {
  if (!CONTENDERS.includes(name)) throw new Error(`Unknown contender ${name}; expected ${CONTENDERS.join(', ')}.`);
}

// ---------------------------------------------------------------------------------------
// Throughput

/**
 * Resolves with the worker's first message of `type`; rejects when it reports an error or
 * goes away first.
 * @param {import('node:child_process').ChildProcess} child
 * @param {string} type
 * @returns {Promise<any>}
 */
function waitFor(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type === type) {
        cleanup();
        resolve(message);
      } else if (message.type === 'error') {
        cleanup();
        reject(new Error(`worker failed: ${message.message}`));
      }
    };
    // 'close', not 'exit': it comes after every message the worker sent.
    const onClose = (code, signal) => {
      cleanup();
      reject(new Error(`worker ended (${signal ?? `exit code ${code}`}) before sending '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('close', onClose);
    };
    child.on('message', onMessage);
    child.on('close', onClose);
  });
}

/**
 * Checks the appended file: every line `<worker>:<seq>:<padding>`, each worker's seqs
 * 0, 1, 2, … in file order, as many lines as the worker acknowledged.
 * @param {string} file
 * @param {number[]} acknowledged appends per worker
 * @returns {{ ok: boolean, summary: string }}
 */
function verifyFile(file, acknowledged) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const unterminated = lines.pop() !== ''; // '' after the final newline
  const pattern = new RegExp(`^(\\d+):(\\d+):${LINE_PADDING}$`);
  const found = acknowledged.map(() => 0);
  let malformed = 0;
  let outOfOrder = 0;
  for (const line of lines) {
    const match = pattern.exec(line);
    const worker = match ? Number(match[1]) : -1;
    if (!match || worker >= acknowledged.length) {
      malformed += 1; // torn, interleaved, or garbage
      continue;
    }
    if (Number(match[2]) !== found[worker]) outOfOrder += 1; // lost, duplicated or reordered
    found[worker] += 1;
  }
  const missing = acknowledged.reduce((sum, count, worker) => sum + Math.max(0, count - found[worker]), 0);
  const extra = acknowledged.reduce((sum, count, worker) => sum + Math.max(0, found[worker] - count), 0);
  const problems = [];
  if (malformed) problems.push(`${malformed} torn/interleaved lines`);
  if (outOfOrder) problems.push(`${outOfOrder} out of sequence`);
  if (missing) problems.push(`${missing} acknowledged lines missing`);
  if (extra) problems.push(`${extra} unacknowledged lines`);
  if (unterminated) problems.push('no final newline');
  const ok = problems.length === 0;
  return { ok, summary: ok ? `ok (${lines.length} lines)` : `**BROKEN**: ${problems.join(', ')}` };
}

/**
 * Runs `procs` workers of `contender` against one file in a fresh temp dir.
 * @param {string} contender
 * @param {number} procs
 */
async function runCase(contender, procs) {
  const dir = mkdtempSync(join(flags.dir, `efs-bench-${contender}-`));
  const file = join(dir, 'lines.txt');
  const warmupFile = join(dir, 'warmup.txt');
  const children = Array.from({ length: procs }, (_, id) =>
    fork(WORKER, [contender, file, warmupFile, String(id)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  try {
    await Promise.all(children.map((child) => waitFor(child, 'ready')));
    const done = children.map((child) => waitFor(child, 'done'));
    const startAt = Date.now() + 100;
    for (const child of children) child.send({ startAt, warmupMs, durationMs });
    const results = await Promise.all(done);
    const counts = results.map((result) => result.count);
    const total = counts.reduce((a, b) => a + b, 0);
    return {
      contender,
      procs,
      perSecond: total / (Math.max(...results.map((result) => result.elapsedMs)) / 1000),
      minPerWorker: Math.min(...counts),
      maxPerWorker: Math.max(...counts),
      p50Ms: Math.max(...results.map((result) => result.p50Ms)),
      p99Ms: Math.max(...results.map((result) => result.p99Ms)),
      maxMs: Math.max(...results.map((result) => result.maxMs)),
      check: verifyFile(file, counts),
      warmupCheck:
        warmupMs > 0
          ? verifyFile(
              warmupFile,
              results.map((result) => result.warmupCount),
            )
          : undefined,
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Syscalls

/**
 * File-system syscalls. Those taking a descriptor first (read, write, close, fstat, …) count
 * only on a file or directory: on an eventfd, pipe or socket (libuv waking the event loop
 * after thread-pool work) they go with the rest. `strace -y` shows what each fd is.
 */
const FS_SYSCALLS = new Set(
  `open openat openat2 creat close read pread64 readv write pwrite64 writev lseek ftruncate truncate
   rename renameat renameat2 mkdir mkdirat rmdir unlink unlinkat symlink symlinkat link linkat
   stat lstat fstat newfstatat statx getdents64 fsync fdatasync readlink readlinkat
   access faccessat faccessat2 utimensat chmod fchmod fchmodat`.split(/\s+/),
);

/** @returns {boolean} */
function haveStrace() {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs append-loop.mjs under `strace -f -y` and counts the calls of each syscall.
 * @param {string} contender
 * @param {number} count appends after the warm-up
 * @returns {{ fs: Map<string, number>, fsByName: Map<string, number>, other: Map<string, number> }}
 *   fs: file-system calls on files; fsByName: every call of an FS_SYSCALLS name, whatever
 *   the fd (what `strace -c` would show); other: everything else.
 */
function countSyscalls(contender, count) {
  const dir = mkdtempSync(join(flags.dir, `efs-strace-${contender}-`));
  try {
    const trace = join(dir, 'strace.txt');
    const args = [
      '-f',
      '-y',
      '-qq',
      '-o',
      trace,
      process.execPath,
      LOOP,
      join(dir, 'lines.txt'),
      String(count),
      contender,
      String(STRACE_WARMUP),
    ];
    const run = spawnSync('strace', args, { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`strace ${args.join(' ')} failed (${run.signal ?? run.status})`);
    const counts = { fs: new Map(), fsByName: new Map(), other: new Map() };
    const add = (map, name) => map.set(name, (map.get(name) ?? 0) + 1);
    // `1234 name(args…` starts a call; `1234 <... name resumed>` ends an interrupted one.
    const call = /^(?:\d+\s+)?([a-z_0-9]+)\((.*)$/;
    for (const line of readFileSync(trace, 'utf8').split('\n')) {
      const match = call.exec(line);
      if (!match) continue;
      const [, name, args] = match;
      if (!FS_SYSCALLS.has(name)) {
        add(counts.other, name);
        continue;
      }
      add(counts.fsByName, name);
      const fd = /^\d+<([^>]*)>/.exec(args); // e.g. `21</tmp/x/lines.txt>` or `9<anon_inode:[eventfd]>`
      if (fd && !fd[1].startsWith('/')) add(counts.other, `${name} (${fd[1].replace(/:\[\d+\]$/, '')})`);
      else add(counts.fs, name);
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Per-append syscalls of a contender: (calls(3N) - calls(N)) / 2N.
 * @param {string} contender
 */
function syscallsPerAppend(contender) {
  const small = countSyscalls(contender, straceN);
  const large = countSyscalls(contender, 3 * straceN);
  /** @param {'fs' | 'fsByName' | 'other'} kind */
  const perAppend = (kind) => {
    const names = new Set([...small[kind].keys(), ...large[kind].keys()]);
    const result = new Map();
    for (const name of names) {
      result.set(name, ((large[kind].get(name) ?? 0) - (small[kind].get(name) ?? 0)) / (2 * straceN));
    }
    return result;
  };
  const sum = (map) => [...map.values()].reduce((a, b) => a + b, 0);
  const fs = perAppend('fs');
  const other = perAppend('other');
  return { contender, fs, fsTotal: sum(fs), fsByNameTotal: sum(perAppend('fsByName')), other, otherTotal: sum(other) };
}

// ---------------------------------------------------------------------------------------
// Report

/** @param {string} command @param {string[]} args */
function output(command, args) {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  return run.status === 0 ? run.stdout : '';
}

/** The git commit the built package comes from, and whether src/ differs from it. */
function source() {
  const src = fileURLToPath(new URL('../src', import.meta.url));
  const commit = output('git', ['-C', src, 'rev-parse', '--short', 'HEAD']).trim();
  if (!commit) return 'unknown (not a git checkout)';
  return output('git', ['-C', src, 'status', '--porcelain', '--', '.']).trim() ? `${commit} + uncommitted changes in src/` : commit;
}

/** The newest modification time in dist/: a rebuild during the run would mix two versions. */
function distBuiltAt() {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  return Math.max(0, ...readdirSync(dist, { recursive: true }).map((name) => statSync(join(dist, name)).mtimeMs));
}

function machine() {
  const memTotal = output('free', ['-h']).match(/^Mem:\s+(\S+)/m)?.[1] ?? `${(os.totalmem() / 2 ** 30).toFixed(1)}Gi`;
  const fsType = output('df', ['-PT', flags.dir]).split('\n')[1]?.split(/\s+/)[1] ?? 'unknown';
  return [
    `- CPUs (\`nproc\`): ${output('nproc', []).trim() || os.availableParallelism()} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    `- Memory (\`free -h\` total): ${memTotal}`,
    `- Kernel (\`uname -r\`): ${os.release()}`,
    `- Temp dir: ${flags.dir} (\`df -T\`: ${fsType})`,
    `- Node: ${process.version}`,
    `- efs-utils source: ${source()}`,
    `- Load average at start (1/5/15 min): ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' / ')}`,
  ].join('\n');
}

/** @param {number} n */
const int = (n) => Math.round(n).toLocaleString('en-US');
/** @param {number} n */
const ms = (n) => (n < 10 ? n.toFixed(2) : n.toFixed(0));
/** @param {number} n */
const calls = (n) => (Math.abs(n - Math.round(n)) < 0.005 ? String(Math.round(n)) : n.toFixed(2));
/** @param {Map<string, number>} map  Syscalls called at least once per 20 appends, most first. */
const breakdown = (map) =>
  [...map]
    .filter(([, n]) => Math.abs(n) >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${calls(n)}`)
    .join(', ');

const builtAt = distBuiltAt();
const command = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
console.log(`## Results ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n`);
console.log(`Command (in packages/efs-utils, after the build): \`${command}\`\n`);
console.log(`${machine()}\n`);
console.log(`proper-lockfile options: \`${JSON.stringify(PROPER_LOCKFILE_OPTIONS)}\`\n`);

let failed = false;
const throughput = [];
console.log(
  `### Appends per second (${durationMs / 1000} s per case after ${warmupMs / 1000} s of warm-up, one file, each append awaited)\n`,
);
console.log('| contender | processes | appends/s | appends per worker (min – max) | latency p50 / p99 / max (ms) | file check |');
console.log('|---|---:|---:|---:|---:|---|');
for (const procs of procCounts) {
  for (const contender of contenders) {
    let result;
    try {
      result = await runCase(contender, procs);
    } catch (error) {
      failed = true;
      console.log(`| ${contender} | ${procs} | failed: ${String(error.message).split('\n')[0]} | | | |`);
      continue;
    }
    throughput.push(result);
    const checks = [result.check, result.warmupCheck ?? result.check];
    if (checks.some((check) => !check.ok) && LOCKED.has(contender)) failed = true;
    const check =
      result.warmupCheck && !result.warmupCheck.ok
        ? `${result.check.summary}; warm-up file ${result.warmupCheck.summary}`
        : result.check.summary;
    console.log(
      `| ${contender} | ${procs} | ${int(result.perSecond)} | ${int(result.minPerWorker)} – ${int(result.maxPerWorker)} | ` +
        `${ms(result.p50Ms)} / ${ms(result.p99Ms)} / ${ms(result.maxMs)} | ${check} |`,
    );
  }
}
console.log("\nLatencies: the worst worker's p50 and p99, and the longest single append.\n");

const syscalls = [];
if (flags['skip-strace']) {
  console.log('Syscall count skipped (--skip-strace).\n');
} else if (!haveStrace()) {
  console.log('Syscall count skipped: strace is not installed (`apt-get install strace`).\n');
} else {
  console.log(
    `### Syscalls per append (one process, uncontended; strace -f, (calls(${3 * straceN}) − calls(${straceN})) / ${2 * straceN})\n`,
  );
  console.log(
    '| contender | file-system syscalls | of which | FS names incl. eventfd/pipe (`strace -c` view) | other syscalls | of which |',
  );
  console.log('|---|---:|---|---:|---:|---|');
  for (const contender of contenders) {
    const result = syscallsPerAppend(contender);
    syscalls.push(result);
    console.log(
      `| ${contender} | ${calls(result.fsTotal)} | ${breakdown(result.fs)} | ${calls(result.fsByNameTotal)} | ` +
        `${calls(result.otherTotal)} | ${breakdown(result.other)} |`,
    );
  }
  console.log();
}

// The targets of the issue.
const find = (contender, procs) => throughput.find((r) => r.contender === contender && r.procs === procs);
const verdict = (met) => (met ? 'met' : '**missed**');
const targets = [];
const one = find('efs-utils', 1);
if (one)
  targets.push(
    `- ≥ 8,000 appends/s in one process: ${int(one.perSecond)}/s (${(one.perSecond / 8000).toFixed(1)}× the target), ${verdict(one.perSecond >= 8000)}`,
  );
const [eight, peer] = [find('efs-utils', 8), find('proper-lockfile', 8)];
if (eight && peer) {
  const ratio = eight.perSecond / peer.perSecond;
  targets.push(
    `- ≥ 4× proper-lockfile with 8 processes: ${int(eight.perSecond)} vs ${int(peer.perSecond)}/s = ${ratio.toFixed(1)}×, ${verdict(ratio >= 4)}`,
  );
}
const efsCalls = syscalls.find((r) => r.contender === 'efs-utils');
if (efsCalls) targets.push(`- ≤ 8 file-system syscalls per locked append: ${calls(efsCalls.fsTotal)}, ${verdict(efsCalls.fsTotal <= 8)}`);
if (targets.length) console.log(`### Targets\n\n${targets.join('\n')}\n`);

if (distBuiltAt() !== builtAt) {
  console.log('**Warning: dist/ was rebuilt during this run; the results mix two builds. Run again.**\n');
}

if (failed) {
  console.error('A locked contender failed or left a broken file: see the table above.');
  process.exitCode = 1;
}
