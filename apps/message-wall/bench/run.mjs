// Benchmark of the message wall through the local runtime (API Gateway + Lambda execution
// environments + the access point as a directory): POST and GET on a 1,000-message wall with 1
// and 8 execution environments. Not a test: run it on a quiet machine.
//
//   pnpm --filter @lambda-efs/message-wall bench            # print the results
//   pnpm --filter @lambda-efs/message-wall bench -- --write # and write bench/RESULTS.md
//   options: --requests N (per round, default 1000), --rounds N (default 3)
//
// Needs the package and its dependencies built (`turbo run bench` builds them first).
/* global fetch */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { percentile, processCpuMs, runLoad } from './load-runner.mjs';

import { defineFunction } from '@lambda-efs/function-spec';
import { startLocalApi } from '@lambda-efs/local-runtime';

import { accessPoint, functionDefinition } from '../dist/function.js';

const WALL_MESSAGES = 1_000;
const REQUESTS = Number(option('--requests') ?? 1_000);
const ROUNDS = Number(option('--rounds') ?? 3);
const ENVIRONMENTS = [1, 8];
const LOAD = fileURLToPath(new URL('./load.mjs', import.meta.url));

function option(name) {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

/**
 * A wall of exactly `count` messages of about 40 bytes, posted through the API as any client
 * would, `concurrency` at a time (more would be throttled, as by Lambda).
 */
async function fillWall(url, count, concurrency) {
  await fetch(url, { method: 'DELETE' }).then((r) => r.text());
  const pad = 'x'.repeat(20);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `prefill ${i} ${pad}` });
        await answer.text();
        if (answer.status !== 200) throw new Error(`prefill POST answered ${answer.status}`);
      }
    }),
  );
  const lines = (await (await fetch(url)).text()).split('\n').length - 1;
  if (lines !== count) throw new Error(`prefill left ${lines} messages, expected ${count}`);
}

function load(options) {
  return runLoad(LOAD, options);
}

function environmentsCpuMs(pids) {
  let total = 0;
  for (const pid of pids) total += processCpuMs(pid) ?? NaN;
  return total;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** What the handler logged for the requests of one scenario: its own time and the lock wait. */
function handlerStats(lines) {
  const entries = [];
  for (const line of lines) {
    // The handler's log line (after the local runtime's "[name] " prefix in text format).
    const start = line.indexOf('{');
    if (start === -1 || !line.includes('"request served"')) continue;
    const entry = JSON.parse(line.slice(start));
    if (entry.message === 'request served') entries.push(entry);
  }
  const sorted = (key) => entries.map((e) => e[key] ?? 0).sort((a, b) => a - b);
  const durations = sorted('durationMs');
  const waits = sorted('lockWaitMs');
  return {
    handlerP50: percentile(durations, 50),
    handlerP99: percentile(durations, 99),
    lockWaitP50: percentile(waits, 50),
    lockWaitP99: percentile(waits, 99),
  };
}

/**
 * One round: a fresh 1,000-message wall, then REQUESTS requests. CPU is counted per process
 * group: the local runtime (this process: HTTP front, events, IPC, logs), the environments
 * (handler, bootstrap, IPC), and the load generator.
 */
async function round(api, logs, environments, method, path) {
  const url = `${api.url}/message-wall`;
  await fillWall(url, WALL_MESSAGES, environments);
  const prefix = `bench ${method.toLowerCase()} ${environments}env`;
  logs.length = 0;
  const pids = api.environmentPids();
  const runtimeBefore = process.cpuUsage();
  const environmentsBefore = environmentsCpuMs(pids);
  const result = await load({ url: `${api.url}${path}`, method, concurrency: environments, requests: REQUESTS, prefix });
  const runtime = process.cpuUsage(runtimeBefore);
  const cpu = {
    runtime: (runtime.user + runtime.system) / 1000,
    environments: environmentsCpuMs(pids) - environmentsBefore,
    load: result.cpuMs,
  };
  let lost = 0;
  let duplicated = 0;
  let wallAfter = WALL_MESSAGES;
  if (method === 'POST') {
    const lines = (await (await fetch(url)).text()).split('\n');
    lines.pop();
    wallAfter = lines.length;
    const counts = new Map();
    for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
    for (const body of result.acknowledged) {
      const n = counts.get(body) ?? 0;
      if (n === 0) lost++;
      if (n > 1) duplicated++;
    }
  }
  return { result, cpu, lost, duplicated, wallAfter, handlerLines: [...logs] };
}

async function scenario(api, logs, environments, method, path = '/message-wall') {
  const rounds = [];
  for (let index = 0; index < ROUNDS; index++) rounds.push(await round(api, logs, environments, method, path));
  const rates = rounds.map((r) => REQUESTS / (r.result.elapsedMs / 1000));
  const sorted = rounds.flatMap((r) => r.result.latencies).sort((a, b) => a - b);
  const statuses = {};
  for (const r of rounds) for (const [status, n] of Object.entries(r.result.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const total = REQUESTS * ROUNDS;
  const cpuPerRequest = (key) => rounds.reduce((sum, r) => sum + r.cpu[key], 0) / total;
  const elapsedMs = rounds.reduce((sum, r) => sum + r.result.elapsedMs, 0);
  const cpuMs = rounds.reduce((sum, r) => sum + r.cpu.runtime + r.cpu.environments + r.cpu.load, 0);
  return {
    method,
    path,
    environments,
    requests: total,
    ok: statuses[200] ?? 0,
    statuses,
    rps: median(rates),
    rpsMin: Math.min(...rates),
    rpsMax: Math.max(...rates),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1),
    avgResponseKb: rounds.reduce((sum, r) => sum + r.result.responseBytes, 0) / total / 1024,
    cpu: { runtime: cpuPerRequest('runtime'), environments: cpuPerRequest('environments'), load: cpuPerRequest('load') },
    busy: cpuMs / (elapsedMs * cpus().length),
    lost: rounds.reduce((sum, r) => sum + r.lost, 0),
    duplicated: rounds.reduce((sum, r) => sum + r.duplicated, 0),
    wallAfter: rounds.at(-1).wallAfter,
    ...handlerStats(rounds.flatMap((r) => r.handlerLines)),
  };
}

const rows = [];
for (const environments of ENVIRONMENTS) {
  const dir = mkdtempSync(join(tmpdir(), 'message-wall-bench-'));
  chmodSync(dir, 0o755);
  const logs = [];
  const api = await startLocalApi({
    functions: [defineFunction({ ...functionDefinition, reservedConcurrency: environments })],
    accessPoints: [accessPoint],
    efsRoot: join(dir, 'efs'),
    port: 0,
    watch: false,
    logSink: (chunk) => logs.push(...chunk.split('\n')),
  });
  try {
    // The last two are references. POST ?tail=1 does the same locked read and append but answers
    // one line instead of the whole wall: the difference is what carrying the wall back costs.
    // A GET of a wall never posted to costs the handler almost nothing: what the local runtime
    // itself costs per request on this machine.
    for (const [method, path] of [['POST'], ['GET'], ['POST', '/message-wall?tail=1'], ['GET', '/message-wall/never-posted']]) {
      const row = await scenario(api, logs, environments, method, path);
      rows.push(row);
      console.error(
        `${row.method} ${row.path} ×${environments}: ${Math.round(row.rps)} requests/s (${Math.round(row.rpsMin)}–${Math.round(row.rpsMax)}), p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms, CPU ${Math.round(row.busy * 100)}%, statuses ${JSON.stringify(row.statuses)}`,
      );
    }
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), Linux ${release()}, Node.js ${process.version}`;
const table = [
  '| request | environments | requests | 200 | requests/s: median (min–max) | p50 ms | p99 ms | max ms | answer KiB (avg) | CPU ms per request: runtime / environments / load generator | CPUs busy | handler p50 / p99 ms | lock wait p50 / p99 ms | wall after | lost | duplicated |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.method} ${r.path} | ${r.environments} | ${r.requests} | ${r.ok} | **${Math.round(r.rps)}** (${Math.round(r.rpsMin)}–${Math.round(r.rpsMax)}) | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.avgResponseKb.toFixed(1)} | ${r.cpu.runtime.toFixed(2)} / ${r.cpu.environments.toFixed(2)} / ${r.cpu.load.toFixed(2)} | ${Math.round(r.busy * 100)}% | ${r.handlerP50.toFixed(2)} / ${r.handlerP99.toFixed(2)} | ${r.method === 'POST' ? `${r.lockWaitP50.toFixed(2)} / ${r.lockWaitP99.toFixed(2)}` : '– (no lock)'} | ${r.wallAfter} | ${r.method === 'POST' ? r.lost : '–'} | ${r.method === 'POST' ? r.duplicated : '–'} |`,
  ),
].join('\n');
const post8 = rows.find((r) => r.method === 'POST' && r.path === '/message-wall' && r.environments === 8);
const load1 = (await import('node:os'))
  .loadavg()
  .map((n) => n.toFixed(2))
  .join(' / ');
const verdict =
  post8 === undefined
    ? ''
    : `\nTarget ≥ 1,000 POST/s with 8 environments: ${Math.round(post8.rps)} POST/s — ${post8.rps >= 1000 ? 'met' : 'NOT met'}.\n`;
console.log(`${table}\n${verdict}`);

if (process.argv.includes('--write')) {
  const text = `# Message wall benchmark

Through the local runtime (\`@lambda-efs/local-runtime\`: HTTP front, payload 2.0 events, one
child process per execution environment, the access point a local directory), built handler
\`dist/handler.js\`. Each scenario runs ${ROUNDS} rounds; each round starts from a wall of exactly
${WALL_MESSAGES} messages of about 40 bytes (posted through the API, which also warms the
environments), then sends ${REQUESTS} requests from as many concurrent keep-alive clients as there
are environments (reserved concurrency = environments), from a separate load-generator process
(a lean HTTP/1.1 client on plain sockets, so that it takes little of the CPUs it shares).
\`requests/s\` is the median round (and the range); latencies are over all rounds. POST answers
carry the whole wall, as in the post, so they grow with it (\`wall after\`). \`lost\`: acknowledged
(200) messages missing from the wall afterwards; \`duplicated\`: acknowledged messages stored more
than once. \`CPU ms per request\`: CPU time of the local runtime's process (which also collects
the logs for this table), of all the environments, and of the load generator, divided by the
requests; \`CPUs busy\`: their sum over the elapsed time of both CPUs. \`handler\`: the time the
handler itself logged (\`durationMs\`, inside the environment), and the lock wait it logged
(\`lockWaitMs\`); the rest of a request's latency is the local runtime (HTTP, event, IPC to the
environment and back, freezing and thawing the environment) and queueing for the CPUs. Two rows
are references, not the post's contract: \`POST /message-wall?tail=1\` does the same locked read
and append but answers one line, so the difference from \`POST /message-wall\` is what carrying
the whole wall back costs; \`GET /message-wall/never-posted\` costs the handler almost nothing, so
it shows the local runtime's own cost per request on this machine.

Command: \`pnpm --filter @lambda-efs/message-wall bench -- --write\` (after \`pnpm build\`; ${REQUESTS} requests × ${ROUNDS} rounds)

Machine: ${machine}

Date: ${new Date().toISOString()}; load average after the run (1 / 5 / 15 min): ${load1}

${table}
${verdict}`;
  writeFileSync(new URL('./RESULTS.md', import.meta.url), text);
  console.error('wrote bench/RESULTS.md');
}
