// Load generator of the side-by-side benchmark (side-by-side.mjs), in its own process so that it
// does not share an event loop with what it measures. `clients` keep-alive clients (node:http,
// one Agent with keepAlive and maxSockets = clients) send `requests` requests in all, each client
// one after another; every latency is kept. POST bodies are `<prefix> <client>-<seq>`, padded to
// about 40 bytes like the seeded messages.
import { Agent, request } from 'node:http';

const { url, method, clients, requests, prefix } = JSON.parse(process.argv[2]);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: clients });

function send(body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
    const req = request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method, agent, headers },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0;
const latencies = [];
const statuses = {};
let responseBytes = 0;

async function client(id) {
  for (let seq = next++; seq < requests; seq = next++) {
    const body = method === 'POST' ? `${prefix} ${id}-${seq}`.padEnd(40, '.') : undefined;
    const startedAt = performance.now();
    const { status, bytes } = await send(body);
    latencies.push(performance.now() - startedAt);
    statuses[status] = (statuses[status] ?? 0) + 1;
    responseBytes += bytes;
  }
}

process.once('message', async () => {
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  const elapsedMs = performance.now() - startedAt;
  agent.destroy();
  process.send({ elapsedMs, latencies, statuses, responseBytes }, () => process.exit(0));
});
process.send('ready');
