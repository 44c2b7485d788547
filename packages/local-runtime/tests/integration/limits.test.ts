import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defineFunction } from '@lambda-efs/function-spec';

import { bodyOf, HANDLER, startHarness, type Echo, type Harness } from '../helpers/runtime.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({
    functions: [defineFunction({ name: 'fixture', entry: HANDLER, routes: ['ANY /echo', 'GET /pid'], timeoutSeconds: 3 })],
  });
});
afterAll(() => harness.close());

/** Sends raw bytes and returns the status line and body of the answer. */
function raw(request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(harness.api.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    const done = (): void => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      socket.destroy();
    };
    socket.on('data', (chunk: string) => {
      text += chunk;
      // A whole answer (the connection may stay open): no need to wait for the close.
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head))?.[1];
      if (head !== -1 && length !== undefined && text.length >= head + 4 + Number(length)) done();
    });
    socket.on('error', reject);
    socket.on('close', done);
    socket.write(request);
  });
}

/** A GET whose request line and headers are exactly `total` bytes. */
function requestOfSize(total: number): string {
  const start = 'GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n';
  const padHeader = 'X-Pad: ';
  const padding = total - start.length - padHeader.length - 2;
  return `${start}${padHeader}${'a'.repeat(padding)}\r\n\r\n`;
}

describe('limits and API Gateway’s own answers', () => {
  it('answers an unknown route with 404 {"message":"Not Found"}', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/pid'],
      ['GET', '/echo/extra'],
    ] as const) {
      const response = await fetch(`${harness.api.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
      expect(response.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    }
  });

  it('accepts a request line and headers of exactly 10,240 bytes and answers 431 past that', async () => {
    expect((await raw(requestOfSize(10_240))).status).toBe(200);
    const over = await raw(requestOfSize(10_241));
    expect(over.status).toBe(431);
    expect(JSON.parse(over.body)).toEqual({ message: 'Request Header Fields Too Large' });
    expect((await raw(requestOfSize(80_000))).status).toBe(431);
  });

  it('answers 413 at once to a body declared over 10 MB, before the body is sent', async () => {
    const answer = await raw(
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${10 * 1024 * 1024 + 1}\r\n\r\nabc`,
    );
    expect(answer.status).toBe(413);
    expect(answer.body).toBe('HTTP content length exceeded 10485760 bytes.');
  });

  it('answers 413 to a chunked body that grows over 10 MB', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const body = new ReadableStream({
      start(controller) {
        for (let index = 0; index < 11; index++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await fetch(`${harness.api.url}/echo`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('answers 413 {"message":"Request Too Long"} when the event is over Lambda’s 6 MB', async () => {
    // 5 MB of binary is 6.7 MB of base64 in the event: under API Gateway's 10 MB, over Lambda's 6 MB.
    const response = await fetch(`${harness.api.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5 * 1024 * 1024, 1),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Too Long' });
    expect(harness.api.environmentPids()).toHaveLength(1);
  });

  it('passes a body just under the limits to the function, base64 for binary types', async () => {
    const bytes = Buffer.alloc(1024 * 1024, 7);
    const response = await fetch(`${harness.api.url}/echo`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: bytes });
    const { event } = await bodyOf<Echo>(response);
    expect(event.isBase64Encoded).toBe(true);
    const received = Buffer.from(event.body ?? '', 'base64');
    // Buffer#equals, not toEqual: vitest's deep equality walks a megabyte byte by byte (seconds).
    expect(received.length).toBe(bytes.length);
    expect(received.equals(bytes)).toBe(true);
  });
});
