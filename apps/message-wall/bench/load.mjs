// The load generator, in its own process so that it does not share an event loop with the local
// API it measures. `concurrency` clients each send requests one after another over a keep-alive
// connection until `requests` have been sent in all; it reports every latency and which POSTs
// were acknowledged (200), so the caller can count lost messages.
import { Agent, request } from 'node:http';

const { url, method, concurrency, requests, prefix } = JSON.parse(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

function send(body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
    const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0;
const latencies = [];
const statuses = {};
const acknowledged = [];
let responseBytes = 0;

async function client(id) {
  for (let seq = next++; seq < requests; seq = next++) {
    const body = method === 'POST' ? `${prefix} ${id}-${seq}` : undefined;
    const startedAt = performance.now();
    const { status, bytes } = await send(body);
    latencies.push(performance.now() - startedAt);
    statuses[status] = (statuses[status] ?? 0) + 1;
    responseBytes += bytes;
    if (status === 200 && body !== undefined) acknowledged.push(body);
  }
}

process.once('message', async () => {
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, id) => client(id)));
  const elapsedMs = performance.now() - startedAt;
  agent.destroy();
  process.send({ elapsedMs, latencies, statuses, acknowledged, responseBytes }, () => process.exit(0));
});
process.send('ready');
