import { spawn, spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defineFunction } from '@lambda-efs/function-spec';

import { dataAccessPoint, eventually, HANDLER, startHarness, type Harness } from '../helpers/runtime.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({
    functions: [
      defineFunction({
        name: 'fixture',
        entry: HANDLER,
        routes: ['ANY /wall', 'ANY /echo', 'GET /pid'],
        timeoutSeconds: 3,
        fileSystem: { accessPoint: dataAccessPoint, mountPath: '/mnt/data' },
        environment: { DATA_DIR: '/mnt/data' },
      }),
    ],
  });
});
afterAll(() => harness.close());

interface Answer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** Parses the complete responses at the start of `buffer` (content-length framing). */
function parseAnswers(buffer: Buffer): Answer[] {
  const answers: Answer[] = [];
  let offset = 0;
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n', offset);
    if (end === -1) return answers;
    const head = buffer.subarray(offset, end).toString('latin1');
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? '0');
    if (buffer.length < end + 4 + length) return answers;
    answers.push({ status: Number(head.slice(9, 12)), headers: head, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
    offset = end + 4 + length;
  }
}

/** Opens a raw connection that collects the answers it receives. */
async function rawConnection(): Promise<{ socket: Socket; answers: (count: number) => Promise<Answer[]>; errors: Error[] }> {
  const socket = connect(harness.api.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = Buffer.alloc(0);
  const errors: Error[] = [];
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  socket.on('error', (error) => errors.push(error));
  return {
    socket,
    errors,
    answers: async (count) => {
      await eventually(() => parseAnswers(received).length >= count || errors.length > 0 || socket.destroyed);
      return parseAnswers(received);
    },
  };
}

function request(method: string, path: string, body = ''): string {
  const length = body === '' ? '' : `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${method} ${path} HTTP/1.1\r\nHost: x\r\n${length}\r\n${body}`;
}

describe('connections', () => {
  it('handles pipelined requests in order: a GET sees the message POSTed before it on the same connection', async () => {
    await fetch(`${harness.api.url}/wall`, { method: 'DELETE' });
    const { socket, answers } = await rawConnection();
    // The POST takes 300 ms before it writes: run concurrently, the GET would answer first.
    socket.write(request('POST', '/wall?ms=300', 'first') + request('GET', '/wall'));
    const [post, get] = await answers(2);
    socket.destroy();
    expect(post?.status).toBe(200);
    expect(get?.status).toBe(200);
    expect(JSON.parse(get?.body ?? '{}')).toEqual({ messages: ['first'] });
  });

  it('never loses a POST pipelined after a DELETE', async () => {
    const { socket, answers } = await rawConnection();
    socket.write(request('DELETE', '/wall?ms=300') + request('POST', '/wall', 'kept') + request('GET', '/wall'));
    const all = await answers(3);
    socket.destroy();
    expect(all.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(JSON.parse(all[1]?.body ?? '{}')).toEqual({ messages: ['kept'] });
    expect(JSON.parse(all[2]?.body ?? '{}')).toEqual({ messages: ['kept'] });
  });

  it('keeps an idle client connection open past Node’s default 5 s keep-alive, so a reused one is not reset', async () => {
    const { socket, answers, errors } = await rawConnection();
    socket.write(request('GET', '/pid'));
    await answers(1);
    // A check that the server does not close the connection needs the idle time itself.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(socket.destroyed || socket.readableEnded).toBe(false);
    socket.write(request('GET', '/pid'));
    const [, again] = await answers(2);
    socket.destroy();
    expect(errors).toEqual([]);
    expect(again?.status).toBe(200);
  });

  it('gives Node’s fetch the 413 and its body for a body over 10 MB (32 MB)', async () => {
    const response = await fetch(`${harness.api.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: Buffer.alloc(32 * 1024 * 1024, 'a'),
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toBe('HTTP content length exceeded 10485760 bytes.');
    // The connection stays usable: the next request is served.
    expect((await fetch(`${harness.api.url}/pid`)).status).toBe(200);
  });

  it('gives the 413 to a raw client that sends its whole body before reading (as Python’s urllib does)', async () => {
    const { socket, answers, errors } = await rawConnection();
    const body = Buffer.alloc(11 * 1024 * 1024, 'b');
    socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`);
    await new Promise<void>((resolve, reject) => socket.write(body, (error) => (error ? reject(error) : resolve())));
    const [answer] = await answers(1);
    expect(errors).toEqual([]);
    expect(answer?.status).toBe(413);
    expect(answer?.body).toBe('HTTP content length exceeded 10485760 bytes.');
    // Drained, so the connection goes on.
    socket.write(request('GET', '/pid'));
    const [, next] = await answers(2);
    expect(next?.status).toBe(200);
    socket.destroy();
  });

  it('answers 404 to a body sent to an unknown route, and keeps the connection', async () => {
    const { socket, answers, errors } = await rawConnection();
    socket.write(request('POST', '/nope', 'x'.repeat(1024 * 1024)) + request('GET', '/pid'));
    const all = await answers(2);
    socket.destroy();
    expect(errors).toEqual([]);
    expect(all.map((answer) => answer.status)).toEqual([404, 200]);
  });

  it('notes a client that closes mid-body in one short line, without a stack trace', async () => {
    const before = harness.lines.length;
    const { socket } = await rawConnection();
    socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly ten b`);
    await new Promise((resolve) => socket.write('', resolve));
    socket.destroy();
    await eventually(() =>
      harness.lines.slice(before).some((line) => line.includes('the client closed the connection before the end of the body')),
    );
    const logged = harness.lines.slice(before);
    expect(logged.filter((line) => /^\s+at /.test(line) || line.includes('failed inside the runtime'))).toEqual([]);
    // And the runtime serves on.
    expect((await fetch(`${harness.api.url}/pid`)).status).toBe(200);
  });
});

const PYTHON_POST = `
import sys, urllib.request, urllib.error
request = urllib.request.Request(sys.argv[1], data=b"a" * (11 * 1024 * 1024), headers={"content-type": "text/plain"}, method="POST")
try:
    urllib.request.urlopen(request)
    print("no error")
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode())
`;
const python = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!python)('connections from Python', () => {
  it('gives Python’s urllib the 413 and its body for a body over 10 MB', async () => {
    const child = spawn('python3', ['-c', PYTHON_POST, `${harness.api.url}/echo`]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.once('close', resolve));
    expect(output.trim()).toBe('413 HTTP content length exceeded 10485760 bytes.');
  });
});
