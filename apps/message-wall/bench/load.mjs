// The load generator, in its own process so that it does not share an event loop with the local
// API it measures. `concurrency` clients each send requests one after another over their own
// keep-alive connection until `requests` have been sent in all; it reports every latency and
// which POSTs were acknowledged (200), so the caller can count lost messages.
//
// It speaks HTTP/1.1 over plain sockets instead of node:http: on a 2-core machine the load
// generator shares the CPUs with the system it measures, and node:http's client costs about
// 0.35 ms of CPU per request, a fifth of the whole budget (the lean client costs about a
// quarter of that). Like wrk, it does only what the measurement needs: fixed requests, answers
// framed by content-length (the local runtime always sends it), nothing else accepted.
import { connect } from 'node:net';

const { url, method, concurrency, requests, prefix } = JSON.parse(process.argv[2]);
const target = new URL(url);
const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection; `send` resolves with the status and size of the answer. */
function connection() {
  const socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
  let pending;
  let buffered = Buffer.alloc(0);
  let expected = -1; // total bytes of the answer in progress, once its header is read
  let status = 0;
  const fail = (error) => {
    const waiting = pending;
    pending = undefined;
    waiting?.reject(error);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the server closed the connection')));
  socket.on('data', (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (expected === -1) {
      const end = buffered.indexOf(HEADER_END);
      if (end === -1) return;
      const head = buffered.toString('latin1', 0, end);
      status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (length === null) return fail(new Error(`answer without content-length: ${head}`));
      if (/\r\nconnection: *close/i.test(head)) return fail(new Error(`the server closes the connection: ${head}`));
      expected = end + HEADER_END.length + Number(length[1]);
    }
    if (buffered.length < expected) return;
    if (buffered.length > expected) return fail(new Error('more bytes than the answer declared'));
    const answer = { status, bytes: expected };
    buffered = Buffer.alloc(0);
    expected = -1;
    const waiting = pending;
    pending = undefined;
    waiting?.resolve(answer);
  });
  const head = `${method} ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  return {
    send(body) {
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        if (body === undefined) socket.write(`${head}\r\n`);
        else socket.write(`${head}content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
    },
    close: () => socket.destroy(),
  };
}

let next = 0;
const latencies = [];
const statuses = {};
const acknowledged = [];
let responseBytes = 0;

async function client(id, http) {
  for (let seq = next++; seq < requests; seq = next++) {
    const body = method === 'POST' ? `${prefix} ${id}-${seq}` : undefined;
    const startedAt = performance.now();
    const { status, bytes } = await http.send(body);
    latencies.push(performance.now() - startedAt);
    statuses[status] = (statuses[status] ?? 0) + 1;
    responseBytes += bytes;
    if (status === 200 && body !== undefined) acknowledged.push(body);
  }
}

const connections = Array.from({ length: concurrency }, connection);
process.once('message', async () => {
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(connections.map((http, id) => client(id, http)));
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  for (const http of connections) http.close();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.send({ elapsedMs, cpuMs, latencies, statuses, acknowledged, responseBytes }, () => process.exit(0));
});
process.send('ready');
