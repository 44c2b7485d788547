// The ceiling: a bare node:http front handing each request to one of N child processes over
// IPC (one request at a time per child) and writing the child's answer back. No routing, no
// logs, no event built: what a front of this shape costs at least on this machine.
// Usage: node baseline.mjs [children=4] [empty|event]
//   empty: the message carries '{}'; event: it carries a payload 2.0 event of the size the
//   runtime sends for the benchmark's requests (built once), to show what carrying it costs.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';

if (process.argv[2] === 'child') {
  process.on('message', (message) => process.send({ id: message.id, body: 'ok' }));
  process.on('disconnect', () => process.exit(0));
} else {
  const count = Number(process.argv[2] ?? '4');
  const payload = process.argv[3] === 'event' ? sampleEvent() : '{}';
  const idle = [];
  const waiting = new Map();
  for (let index = 0; index < count; index++) {
    const child = fork(new URL(import.meta.url).pathname, ['child']);
    child.on('message', (message) => {
      const response = waiting.get(message.id);
      waiting.delete(message.id);
      idle.push(child);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(message.body);
    });
    idle.push(child);
  }
  let next = 0;
  const server = createServer((request, response) => {
    const child = idle.pop();
    if (child === undefined) {
      response.writeHead(500);
      response.end();
      return;
    }
    const id = next++;
    waiting.set(id, response);
    child.send({ id, event: payload });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ url: `http://127.0.0.1:${server.address().port}/noop` }));
  process.on('disconnect', () => process.exit(0));
}

function sampleEvent() {
  const headers = { host: '127.0.0.1:3000', 'user-agent': 'autocannon', 'x-forwarded-for': '127.0.0.1' };
  Object.assign(headers, {
    'x-forwarded-port': '3000',
    'x-forwarded-proto': 'http',
    'x-amzn-trace-id': `Root=1-5e5ffb9e-${'0'.repeat(24)}`,
  });
  return {
    version: '2.0',
    routeKey: 'GET /noop',
    rawPath: '/noop',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: '127.0.0.1:3000',
      domainPrefix: '127',
      http: { method: 'GET', path: '/noop', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'autocannon' },
      requestId: 'LV7fzho-PHcEJPw=',
      routeKey: 'GET /noop',
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: 1583348638390,
    },
    isBase64Encoded: false,
  };
}
