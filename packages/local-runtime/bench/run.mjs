// Benchmarks of the local runtime (not tests). Build first: `pnpm --filter @lambda-efs/local-runtime build`.
// Usage: node bench/run.mjs [seconds=10]
//   1. warm overhead: autocannon, 4 connections against a no-op function with 4 environments
//      (reserved concurrency 4), after a warm-up; the bare node:http + 4 IPC children front as
//      the ceiling; the runtime with freezing on (default) and off;
//   2. cold start: a fresh runtime and one request, 10 times: time to the first answer, and
//      the Init Duration the REPORT line gives.
// Every server runs in its own process; the runtime's logs (text, on) go to a file.
import { fork } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Agent, request } from 'node:http';

import autocannon from 'autocannon';
import { defineFunction } from '@lambda-efs/function-spec';

import { startLocalApi } from '../dist/index.js';

const seconds = Number(process.argv[2] ?? '10');
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'local-runtime-bench-'));

// CPU time (user + system, clock ticks of 10 ms) of a process and of its children, from /proc:
// per request, it measures the cost of each side independently of what else loads the machine.
function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
function cpuSnapshot(pid) {
  return { front: cpuTicks(pid), environments: childPids(pid).reduce((sum, child) => sum + cpuTicks(child), 0) };
}

async function withServer(script, args, run) {
  const log = join(scratch, `${args.join('-') || 'server'}.log`);
  const out = openSync(log, 'w');
  const child = fork(here(script), args, { stdio: ['ignore', out, out, 'ipc'] });
  const { url } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}; see ${log}`)));
  });
  try {
    return await run(url, log, child.pid);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.disconnect();
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    await exited;
  }
}

async function load(url, pid) {
  // Warm-up: starts the four environments and lets V8 optimize the hot paths.
  await autocannon({ url, connections: 4, duration: 2 });
  const before = cpuSnapshot(pid);
  const result = await autocannon({ url, connections: 4, duration: seconds });
  const after = cpuSnapshot(pid);
  const perRequest = (ticks) => Math.round((ticks * 10_000) / result.requests.total);
  return {
    frontCpuUs: perRequest(after.front - before.front),
    environmentCpuUs: perRequest(after.environments - before.environments),
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: Math.round(result.requests.average),
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

// One keep-alive connection, one request at a time: the latency of a warm request, to the µs
// (autocannon's percentiles are whole milliseconds).
async function sequential(url, count = 3000, warmup = 500) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      request(url, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
      })
        .on('error', reject)
        .end();
    });
  for (let index = 0; index < warmup; index++) await once();
  const samples = [];
  for (let index = 0; index < count; index++) samples.push(await once());
  agent.destroy();
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

async function measure(url, pid) {
  const single = await sequential(url);
  return { ...(await load(url, pid)), single };
}

const rows = [];
rows.push([
  'bare node:http + 4 IPC children (ceiling)',
  await withServer('baseline.mjs', ['4', 'empty'], (url, _log, pid) => measure(url, pid)),
]);
rows.push([
  'the same, each message carrying a payload 2.0 event',
  await withServer('baseline.mjs', ['4', 'event'], (url, _log, pid) => measure(url, pid)),
]);
rows.push([
  'local runtime, 4 environments, freeze on (default)',
  await withServer('server.mjs', ['4', 'freeze'], async (url, log, pid) => ({
    ...(await measure(url, pid)),
    logBytes: statSync(log).size,
  })),
]);
rows.push([
  'local runtime, 4 environments, freeze off',
  await withServer('server.mjs', ['4', 'no-freeze'], async (url, log, pid) => ({
    ...(await measure(url, pid)),
    logBytes: statSync(log).size,
  })),
]);

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${seconds} s per run, autocannon 4 connections`);
console.log(
  '\n| front | one at a time: p50 (ms) | p99 (ms) | 4 connections: requests/s | p50 (ms) | p99 (ms) | non-2xx | errors | CPU per request: front (µs) | environments (µs) | log written |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, r] of rows) {
  const log = r.logBytes === undefined ? '—' : `${(r.logBytes / 1e6).toFixed(1)} MB`;
  console.log(
    `| ${name} | ${r.single.p50.toFixed(3)} | ${r.single.p99.toFixed(3)} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.frontCpuUs} | ${r.environmentCpuUs} | ${log} |`,
  );
}

// Cold start of one environment, in this process: startLocalApi, one request, close.
const entry = here('noop.mjs');
const colds = [];
for (let index = 0; index < 10; index++) {
  const lines = [];
  const api = await startLocalApi({
    functions: [defineFunction({ name: 'noop', entry, routes: ['GET /noop'] })],
    efsRoot: join(scratch, 'efs'),
    port: 0,
    watch: false,
    logSink: (line) => lines.push(line),
  });
  const started = performance.now();
  const response = await globalThis.fetch(`${api.url}/noop`);
  await response.text();
  const firstAnswerMs = performance.now() - started;
  await api.close();
  const init = Number(/Init Duration: ([\d.]+) ms/.exec(lines.join('\n'))?.[1]);
  colds.push({ firstAnswerMs, init });
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (value) => value.toFixed(1);
console.log('\n| cold start (10 runs) | median (ms) | min (ms) | max (ms) |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, key] of [
  ['request → first answer (spawn + init + invoke)', 'firstAnswerMs'],
  ['Init Duration (REPORT)', 'init'],
]) {
  const values = colds.map((cold) => cold[key]);
  console.log(`| ${name} | ${fmt(median(values))} | ${fmt(Math.min(...values))} | ${fmt(Math.max(...values))} |`);
}
rmSync(scratch, { recursive: true, force: true });
