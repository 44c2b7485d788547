// The message wall through `pnpm start` next to the post's own Python handler, in the same run
// (issue 15). Not a test: the figures depend on the machine and on what else runs on it, so both
// peers run in every round, one after the other (order alternating), and the ratio is compared.
//
//   pnpm --filter @lambda-efs/message-wall build && node apps/message-wall/bench/side-by-side.mjs
//   options: --rounds N (default 3)  --requests N (default 3000)  --clients N (default 8)
//            --seed N (messages on the wall before the POSTs, default 1000)
//            --python PATH (the peer, default bench/post-handler-server.py: the post's function behind
//            Python's threaded HTTP server)
//            --runtime-arg ARG (passed on to scripts/start.mjs, repeatable: --runtime-arg=--no-freeze)
//            --slices N (each phase runs in N slices, the peers taking turns; default 1). More
//            slices penalize the Python peer: its server speaks HTTP/1.0 (a connection per request)
//            with a listen backlog of 5, so the 8 clients connecting at once at the start of
//            every slice lose SYNs and wait out the 1 s retransmit (300-POST slices: 209-278/s
//            against 932/s in one run of 3,000).
//            --wall-only (serve through bench/start-wall-only.mjs: the same front and defaults as
//            scripts/start.mjs, the message wall alone; for when another function does not build)
//            --compare-runtime PATH (a third peer: start-wall-only.mjs with another build of the local
//            runtime, PATH its dist/index.js, e.g. the last commit's, for before/after in one run)
//            --compare-start SCRIPT (the third peer's start script instead: a copy of
//            start-wall-only.mjs in another checkout, serving that checkout's message wall)
//            --warm-posts N (local runtimes only: N POSTs with ?tail=1 to another wall, /message-wall/
//            bench-warmup, after the warm-up GETs, so that every environment has run the POST code
//            before the measured phase; default 0: environments as fresh as after a start)
//            --write (append the table to ../BENCHMARKS.md)
//
// Each round: every peer on a fresh directory; the same `seed` messages of about 40 bytes POSTed
// one at a time (so the walls are the same bytes, and the answers are compared); 200 GETs from
// the clients to warm up (the local runtime starts its environments); then `requests` POSTs from
// `clients` keep-alive clients (node:http Agent), then `requests` GETs of the grown wall, and, for
// the local runtimes only (the peer ignores the query), `requests` POSTs with ?tail=1. Each of
// these phases runs in slices, the peers taking turns, so that both see the same machine.
// The local runtime is the root scripts/start.mjs, as `pnpm start` runs it after its build, with
// its defaults (text logs, freezing, watch); its log goes to a file, as to a terminal.
/* global fetch */
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CLOCK_TICKS_PER_SECOND, percentile, runLoad, usageOfTree } from './load-runner.mjs';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const LOAD = fileURLToPath(new URL('./http-load.mjs', import.meta.url));

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
}
const ROUNDS = Number(option('--rounds', 3));
const REQUESTS = Number(option('--requests', 3000));
const CLIENTS = Number(option('--clients', 8));
const SEED = Number(option('--seed', 1000));
const PYTHON_PEER = option('--python', fileURLToPath(new URL('./post-handler-server.py', import.meta.url)));
const RUNTIME_ARGS = process.argv.filter((arg) => arg.startsWith('--runtime-arg=')).map((arg) => arg.slice('--runtime-arg='.length));
const WALL_ONLY = process.argv.includes('--wall-only');
const START_SCRIPT = WALL_ONLY ? fileURLToPath(new URL('./start-wall-only.mjs', import.meta.url)) : join(repoRoot, 'scripts/start.mjs');
const COMPARE_RUNTIME = option('--compare-runtime', undefined);
const COMPARE_START = option('--compare-start', undefined);
const COMPARING = COMPARE_RUNTIME !== undefined || COMPARE_START !== undefined;
const WARMUP_GETS = 200;
const WARM_POSTS = Number(option('--warm-posts', 0));
const SLICES = Number(option('--slices', 1));
/** Seed answers compared between the peers (indexes of the seeding POSTs). */
const COMPARED = new Set([0, 1, Math.floor(SEED / 2), SEED - 2, SEED - 1]);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, child, what) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before answering`);
    try {
      const answer = await fetch(url);
      await answer.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${what} did not answer within 180 s`);
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The post's handler behind Python's threaded HTTP server: every path is its one wall. */
async function startPython(dir) {
  const port = await freePort();
  const child = spawn('python3', [PYTHON_PEER, String(port), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/`, child, 'the Python peer');
  return { name: 'python', pid: child.pid, wallUrl: `${base}/message-wall`, stop: () => stop(child) };
}

/** `pnpm start` without its build step (done before): the root scripts/start.mjs, defaults on. */
function startRuntime(dir) {
  return startLocalRuntime(dir, 'pnpm start', START_SCRIPT, {});
}

/** The same with another build of the local runtime (--compare-runtime). */
function startCompared(dir) {
  return startLocalRuntime(dir, 'compared', COMPARE_START ?? fileURLToPath(new URL('./start-wall-only.mjs', import.meta.url)), {
    BENCH_LOCAL_RUNTIME: COMPARE_RUNTIME ?? '',
  });
}

async function startLocalRuntime(dir, name, script, env) {
  const port = await freePort();
  const invokePort = await freePort();
  const logFile = join(dir, 'runtime.log');
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [script, '--port', String(port), '--invoke-port', String(invokePort), '--efs-root', join(dir, 'efs'), ...RUNTIME_ARGS],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}/message-wall/never-posted`, child, script);
  } catch (error) {
    console.error(readFileSync(logFile, 'utf8').slice(-4000));
    throw error;
  }
  return { name, pid: child.pid, wallUrl: `${base}/message-wall`, stop: () => stop(child), logFile };
}

function load(options) {
  return runLoad(LOAD, options);
}

/**
 * What the peer's processes used between two readings of usageOfTree: CPU ms and minor page faults,
 * of the server itself (`root`: the Python server, or the local runtime) and of its descendants (the
 * local runtime's execution environments).
 */
function usageBetween(before, after) {
  const used = { rootCpuMs: 0, childrenCpuMs: 0, rootFaults: 0, childrenFaults: 0 };
  for (const [pid, now] of after) {
    const then = before.get(pid) ?? { cpuTicks: 0, minorFaults: 0 };
    const cpuMs = ((now.cpuTicks - then.cpuTicks) * 1000) / CLOCK_TICKS_PER_SECOND;
    const faults = now.minorFaults - then.minorFaults;
    if (now.root) {
      used.rootCpuMs += cpuMs;
      used.rootFaults += faults;
    } else {
      used.childrenCpuMs += cpuMs;
      used.childrenFaults += faults;
    }
  }
  return used;
}

/**
 * One phase (`requests` requests of one kind) on every peer, in `SLICES` slices taken in turn
 * (A B C, then C B A, …): a machine whose load changes during the run changes every peer's rate
 * alike. A peer's rate is its requests over the time its own slices took.
 */
async function phase(peers, method, query, prefix) {
  const results = new Map(
    peers.map((peer) => [
      peer,
      { elapsedMs: 0, latencies: [], responseBytes: 0, rootCpuMs: 0, childrenCpuMs: 0, rootFaults: 0, childrenFaults: 0 },
    ]),
  );
  const perSlice = Math.ceil(REQUESTS / SLICES);
  for (let slice = 0; slice < SLICES; slice++) {
    const order = slice % 2 === 0 ? peers : [...peers].reverse();
    for (const peer of order) {
      const requests = Math.min(perSlice, REQUESTS - slice * perSlice);
      if (requests <= 0) continue;
      const url = `${peer.wallUrl}${query}`;
      const usageBefore = usageOfTree(peer.pid);
      const result = await load({ url, method, clients: CLIENTS, requests, prefix: `${prefix} s${slice}` });
      const used = usageBetween(usageBefore, usageOfTree(peer.pid));
      const ok = result.statuses['200'] ?? 0;
      if (ok !== requests)
        throw new Error(`${peer.name}: ${method} ${url}: ${JSON.stringify(result.statuses)} (all ${requests} should be 200)`);
      const total = results.get(peer);
      total.elapsedMs += result.elapsedMs;
      total.latencies.push(...result.latencies);
      total.responseBytes += result.responseBytes;
      for (const key of ['rootCpuMs', 'childrenCpuMs', 'rootFaults', 'childrenFaults']) total[key] += used[key];
    }
  }
  return new Map(
    [...results].map(([peer, total]) => {
      const sorted = total.latencies.sort((a, b) => a - b);
      return [
        peer,
        {
          rps: REQUESTS / (total.elapsedMs / 1000),
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          kib: total.responseBytes / REQUESTS / 1024,
          cpuMsPerRequest: (total.rootCpuMs + total.childrenCpuMs) / REQUESTS,
          serverCpuMsPerRequest: total.rootCpuMs / REQUESTS,
          environmentsCpuMsPerRequest: total.childrenCpuMs / REQUESTS,
          serverFaultsPerRequest: total.rootFaults / REQUESTS,
          environmentsFaultsPerRequest: total.childrenFaults / REQUESTS,
        },
      ];
    }),
  );
}

/** The same SEED messages, one at a time; returns the answers kept for comparison. */
async function seed(wallUrl) {
  const answers = new Map();
  const empty = await (await fetch(wallUrl)).text();
  answers.set('GET of an empty wall', empty);
  for (let i = 0; i < SEED; i++) {
    const message = `seed message ${String(i).padStart(4, '0')} `.padEnd(40, 'x');
    const answer = await fetch(wallUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: message });
    const text = await answer.text();
    if (answer.status !== 200) throw new Error(`seeding POST answered ${answer.status}: ${text}`);
    if (COMPARED.has(i)) answers.set(`answer to seed POST #${i}`, text);
  }
  answers.set(`GET of the seeded wall`, await (await fetch(wallUrl)).text());
  const lines = answers.get('GET of the seeded wall').split('\n').length - 1;
  if (lines !== SEED) throw new Error(`the seeded wall has ${lines} messages, expected ${SEED}`);
  return answers;
}

/** One round: every peer started on a fresh directory and seeded, then each phase on all of them. */
async function runRound(starts, round) {
  const dirs = [];
  const peers = [];
  try {
    for (const start of starts) {
      const dir = mkdtempSync(join(tmpdir(), 'wall-side-by-side-'));
      chmodSync(dir, 0o755);
      dirs.push(dir);
      peers.push(await start(dir));
    }
    const rows = new Map();
    for (const peer of peers) {
      rows.set(peer, { peer: peer.name, round, answers: await seed(peer.wallUrl) });
      await load({ url: peer.wallUrl, method: 'GET', clients: CLIENTS, requests: WARMUP_GETS, prefix: '' });
      // The Python peer serves one wall whatever the path: its warm-up stays the GETs.
      if (WARM_POSTS > 0 && peer.name !== 'python') {
        await load({ url: `${peer.wallUrl}/bench-warmup?tail=1`, method: 'POST', clients: CLIENTS, requests: WARM_POSTS, prefix: 'warm' });
      }
    }
    for (const [peer, measured] of await phase(peers, 'POST', '', `bench r${round}`)) rows.get(peer).post = measured;
    for (const [peer, measured] of await phase(peers, 'GET', '')) rows.get(peer).get = measured;
    // The Python peer ignores the query (it would answer the whole wall): local runtimes only.
    const runtimes = peers.filter((peer) => peer.name !== 'python');
    for (const [peer, measured] of await phase(runtimes, 'POST', '?tail=1', `tail r${round}`)) rows.get(peer).tail = measured;
    for (const peer of peers) {
      const wall = await (await fetch(peer.wallUrl)).text();
      rows.get(peer).wallAfter = wall.split('\n').length - 1;
    }
    return [...rows.values()];
  } finally {
    for (const peer of peers) await peer.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function compareAnswers(python, runtime) {
  const differences = [];
  for (const [what, text] of python.answers) {
    const other = runtime.answers.get(what);
    if (other !== text)
      differences.push(
        `${what}: ${Buffer.byteLength(text)} bytes from Python, ${other === undefined ? 'none' : Buffer.byteLength(other)} from pnpm start`,
      );
  }
  return differences;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const loadBefore = loadavg()
  .map((n) => n.toFixed(1))
  .join(' / ');
const rounds = [];
for (let round = 1; round <= ROUNDS; round++) {
  const peers = !COMPARING ? [startPython, startRuntime] : [startPython, startCompared, startRuntime];
  const order = round % 2 === 1 ? peers : [...peers].reverse();
  const rows = await runRound(order, round);
  const python = rows.find((r) => r.peer === 'python');
  const runtime = rows.find((r) => r.peer === 'pnpm start');
  const compared = rows.find((r) => r.peer === 'compared');
  const differences = compareAnswers(python, runtime);
  if (differences.length > 0) throw new Error(`answers differ between the peers:\n${differences.join('\n')}`);
  const ratio = runtime.post.rps / python.post.rps;
  rounds.push({ round, python, runtime, ratio, comparedRuntime: compared, compared: python.answers.size });
  console.error(
    `round ${round}: POST python ${Math.round(python.post.rps)}/s p50 ${python.post.p50.toFixed(1)} ms; pnpm start ${Math.round(runtime.post.rps)}/s p50 ${runtime.post.p50.toFixed(1)} ms; ratio ${ratio.toFixed(2)}; ` +
      `GET ${Math.round(python.get.rps)} / ${Math.round(runtime.get.rps)}; ?tail=1 ${Math.round(runtime.tail.rps)}; ` +
      `CPU ms per POST ${python.post.cpuMsPerRequest.toFixed(2)} / ${runtime.post.cpuMsPerRequest.toFixed(2)}; ${python.answers.size} answers byte-identical` +
      (compared === undefined
        ? ''
        : `; compared build: POST ${Math.round(compared.post.rps)}/s (ratio ${(compared.post.rps / python.post.rps).toFixed(2)}), GET ${Math.round(compared.get.rps)}, ?tail=1 ${Math.round(compared.tail.rps)}`),
  );
}

const fmt = (m) => `${Math.round(m.rps)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)}`;
const table = [
  `| round | Python POST/s | p50 ms | p99 ms | pnpm start POST/s | p50 ms | p99 ms | ratio | Python GET/s | pnpm start GET/s | GET ratio | pnpm start POST ?tail=1/s | p50 ms |`,
  `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ...rounds.map(
    (r) =>
      `| ${r.round} | ${fmt(r.python.post)} | ${fmt(r.runtime.post)} | **${r.ratio.toFixed(2)}** | ${Math.round(r.python.get.rps)} | ${Math.round(r.runtime.get.rps)} | ${(r.runtime.get.rps / r.python.get.rps).toFixed(2)} | ${Math.round(r.runtime.tail.rps)} | ${r.runtime.tail.p50.toFixed(1)} |`,
  ),
  `| median | ${Math.round(median(rounds.map((r) => r.python.post.rps)))} | ${median(rounds.map((r) => r.python.post.p50)).toFixed(1)} | ${median(rounds.map((r) => r.python.post.p99)).toFixed(1)} | ${Math.round(median(rounds.map((r) => r.runtime.post.rps)))} | ${median(rounds.map((r) => r.runtime.post.p50)).toFixed(1)} | ${median(rounds.map((r) => r.runtime.post.p99)).toFixed(1)} | **${median(rounds.map((r) => r.ratio)).toFixed(2)}** | ${Math.round(median(rounds.map((r) => r.python.get.rps)))} | ${Math.round(median(rounds.map((r) => r.runtime.get.rps)))} | ${median(rounds.map((r) => r.runtime.get.rps / r.python.get.rps)).toFixed(2)} | ${Math.round(median(rounds.map((r) => r.runtime.tail.rps)))} | ${median(rounds.map((r) => r.runtime.tail.p50)).toFixed(1)} |`,
].join('\n');
// CPU time of each peer's processes per request: what the work costs, whatever else the machine runs.
const cpu2 = (m) => m.cpuMsPerRequest.toFixed(2);
const cpuTable = [
  `| round | Python POST | pnpm start POST | ratio | Python GET | pnpm start GET | pnpm start POST ?tail=1 |${rounds[0]?.comparedRuntime === undefined ? '' : ' compared POST | compared GET | compared POST ?tail=1 |'}`,
  `| ---: | ---: | ---: | ---: | ---: | ---: | ---: |${rounds[0]?.comparedRuntime === undefined ? '' : ' ---: | ---: | ---: |'}`,
  ...rounds.map(
    (r) =>
      `| ${r.round} | ${cpu2(r.python.post)} | ${cpu2(r.runtime.post)} | ${(r.runtime.post.cpuMsPerRequest / r.python.post.cpuMsPerRequest).toFixed(2)} | ${cpu2(r.python.get)} | ${cpu2(r.runtime.get)} | ${cpu2(r.runtime.tail)} |` +
      (r.comparedRuntime === undefined
        ? ''
        : ` ${cpu2(r.comparedRuntime.post)} | ${cpu2(r.comparedRuntime.get)} | ${cpu2(r.comparedRuntime.tail)} |`),
  ),
].join('\n');
// The local runtimes' share: the runtime process (API Gateway's part) and its environments.
const split = (m) =>
  `${m.serverCpuMsPerRequest.toFixed(2)} | ${m.environmentsCpuMsPerRequest.toFixed(2)} | ${m.serverFaultsPerRequest.toFixed(1)} | ${m.environmentsFaultsPerRequest.toFixed(1)}`;
const splitTable = [
  `| round | Python faults | pnpm start: runtime CPU | environments CPU | runtime faults | environments faults |${rounds[0]?.comparedRuntime === undefined ? '' : ' compared: runtime CPU | environments CPU | runtime faults | environments faults |'}`,
  `| ---: | ---: | ---: | ---: | ---: | ---: |${rounds[0]?.comparedRuntime === undefined ? '' : ' ---: | ---: | ---: | ---: |'}`,
  ...rounds.map(
    (r) =>
      `| ${r.round} | ${r.python.post.serverFaultsPerRequest.toFixed(1)} | ${split(r.runtime.post)} |` +
      (r.comparedRuntime === undefined ? '' : ` ${split(r.comparedRuntime.post)} |`),
  ),
].join('\n');
const withCompared = rounds.filter((r) => r.comparedRuntime !== undefined);
const comparedTable =
  withCompared.length === 0
    ? ''
    : [
        `\nThe compared build (${[COMPARE_START, COMPARE_RUNTIME].filter(Boolean).join(' with ')}), same rounds:\n`,
        `| round | compared POST/s | p50 ms | p99 ms | ratio to Python | GET/s | POST ?tail=1/s | pnpm start ÷ compared (POST) |`,
        `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
        ...withCompared.map(
          (r) =>
            `| ${r.round} | ${fmt(r.comparedRuntime.post)} | ${(r.comparedRuntime.post.rps / r.python.post.rps).toFixed(2)} | ${Math.round(r.comparedRuntime.get.rps)} | ${Math.round(r.comparedRuntime.tail.rps)} | ${(r.runtime.post.rps / r.comparedRuntime.post.rps).toFixed(2)} |`,
        ),
        `| median | ${Math.round(median(withCompared.map((r) => r.comparedRuntime.post.rps)))} | ${median(withCompared.map((r) => r.comparedRuntime.post.p50)).toFixed(1)} | ${median(withCompared.map((r) => r.comparedRuntime.post.p99)).toFixed(1)} | ${median(withCompared.map((r) => r.comparedRuntime.post.rps / r.python.post.rps)).toFixed(2)} | ${Math.round(median(withCompared.map((r) => r.comparedRuntime.get.rps)))} | ${Math.round(median(withCompared.map((r) => r.comparedRuntime.tail.rps)))} | ${median(withCompared.map((r) => r.runtime.post.rps / r.comparedRuntime.post.rps)).toFixed(2)} |`,
      ].join('\n');
const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, Node.js ${process.version}; load average (1/5/15 min) ${loadBefore} before, ${loadavg()
  .map((n) => n.toFixed(1))
  .join(' / ')} after`;
const command = `node apps/message-wall/bench/side-by-side.mjs ${process.argv.slice(2).join(' ')}`.trim();
const text = `Command: \`${command}\` (${new Date().toISOString()})\n\nMachine: ${machine}\n\nAnswers compared byte for byte each round: ${rounds[0]?.compared ?? 0} (empty wall, ${COMPARED.size} seed POSTs, the seeded wall); all identical. Wall after the POSTs: ${rounds[0]?.runtime.wallAfter} messages (pnpm start, ?tail=1 POSTs included), ${rounds[0]?.python.wallAfter} (Python).\n\n${table}\n${comparedTable}\n\nCPU time per request of each peer's processes (the server; for the local runtimes, the runtime and its environments), ms; the load generator is not counted:\n\n${cpuTable}\n\nPer POST: CPU ms of the local runtime's own process and of its execution environments, and minor page faults (first touches of memory, about 20 µs each on this VM):\n\n${splitTable}\n`;
console.log(text);
if (process.argv.includes('--write')) {
  appendFileSync(new URL('../BENCHMARKS.md', import.meta.url), `\n${text}`);
  console.error('appended to apps/message-wall/BENCHMARKS.md');
}
