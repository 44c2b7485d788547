import { describe, expect, it } from 'vitest';

import {
  bodyBytes,
  bodyText,
  budget,
  firstInvalidUtf8,
  FunctionError,
  httpFunction,
  InvalidBodyError,
  textResponse,
  type HttpApiEventV2,
  type LogEntry,
} from '../../src/index.js';

const event = (method: string, extra: Partial<HttpApiEventV2> = {}): HttpApiEventV2 => ({
  version: '2.0',
  routeKey: `ANY /thing`,
  requestContext: { requestId: 'api-1', http: { method } },
  ...extra,
});
const context = (remainingMs = 10_000) => ({ awsRequestId: 'lambda-1', getRemainingTimeInMillis: () => remainingMs });
const tooLarge = (bytes: number, max: number): Error => new FunctionError('ETOOLARGE', 413, `${bytes} bytes, the limit is ${max}.`);

function app(routes: Parameters<typeof httpFunction>[0]['routes'], extra: Partial<Parameters<typeof httpFunction>[0]> = {}) {
  const logs: LogEntry[] = [];
  const handler = httpFunction({
    routes,
    errorFormat: 'json',
    example: 'curl https://<api>/thing',
    log: (entry) => logs.push(entry),
    ...extra,
  });
  return { handler, logs };
}

describe('httpFunction', () => {
  it('answers an unknown method with 405 and the routes’ methods in Allow, without calling a route', async () => {
    let called = false;
    const { handler, logs } = app({ GET: async () => ((called = true), textResponse(200, 'x')), POST: async () => textResponse(200, 'y') });
    const result = await handler(event('PUT'), context());
    expect(result.statusCode).toBe(405);
    expect(result.headers['allow']).toBe('GET, POST');
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'EMETHOD', message: 'Method PUT is not supported: use GET or POST.' } });
    expect(called).toBe(false);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'request refused', requestId: 'lambda-1', apiRequestId: 'api-1', status: 405 }),
    ]);
  });

  it('answers an event that is not an HTTP API one with 400 saying how to call the function', async () => {
    const { handler } = app({ GET: async () => textResponse(200, 'x') }, { errorFormat: 'text' });
    const result = await handler({ httpMethod: 'GET' });
    expect(result.statusCode).toBe(400);
    expect(result.body).toMatch(/payload format 2\.0\): call it through its HTTP endpoint, for example curl https:\/\/<api>\/thing\.$/);
  });

  it('checks the resource before the method', async () => {
    const { handler } = app(
      { GET: async () => textResponse(200, 'x') },
      {
        checkResource: () => {
          throw new FunctionError('EID', 400, 'Bad id.');
        },
      },
    );
    expect((await handler(event('PUT'), context())).statusCode).toBe(400);
  });

  it('logs the route’s fields with the one request line, served or refused', async () => {
    const { handler, logs } = app({
      GET: async (request) => {
        request.annotate({ wall: 'alice' });
        return textResponse(200, 'ok');
      },
      POST: async (request) => {
        request.annotate({ wall: 'bob' });
        throw new FunctionError('EFULL', 507, 'Full: clear it.', { expose: true, logLevel: 'WARN' });
      },
    });
    await handler(event('GET'), context());
    const refused = await handler(event('POST'), context());
    expect(refused.statusCode).toBe(507);
    expect(logs[0]).toMatchObject({ level: 'INFO', message: 'request served', method: 'GET', status: 200, wall: 'alice' });
    expect(typeof logs[0]?.['durationMs']).toBe('number');
    expect(logs[1]).toMatchObject({
      level: 'WARN',
      message: 'request refused',
      status: 507,
      code: 'EFULL',
      wall: 'bob',
      reason: 'Full: clear it.',
    });
  });

  it('hides an unexpected error behind a 500 that says to retry with backoff, and logs it at ERROR with its cause', async () => {
    const { handler, logs } = app({
      GET: async () => {
        throw new Error('disk on fire');
      },
    });
    const result = await handler(event('GET'), context());
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({
      error: {
        code: 'EINTERNAL',
        message: 'Internal error: the request failed. Retry with backoff; if it keeps failing, report request id lambda-1.',
      },
    });
    expect(logs[0]).toMatchObject({ level: 'ERROR', code: 'EINTERNAL', error: { cause: { message: 'disk on fire' } } });
  });

  it('gives routes what is left of the invocation minus the margin', async () => {
    let seen: number | undefined;
    const { handler } = app({ GET: async (request) => ((seen = request.budgetMs()), textResponse(200, '')) }, { deadlineMarginMs: 1_000 });
    await handler(event('GET'), context(3_500));
    expect(seen).toBe(2_500);
    expect(budget(undefined, 500)).toBeUndefined();
    expect(budget(context(200), 500)).toBe(0);
  });
});

describe('bodies', () => {
  const base64 = (bytes: Uint8Array): HttpApiEventV2 =>
    event('POST', { body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true });

  it('decodes base64 bodies and refuses one over the limit before decoding', () => {
    expect(bodyBytes(base64(Buffer.from('abc')), 3, tooLarge).toString()).toBe('abc');
    expect(() => bodyBytes(base64(Buffer.from('abcd')), 3, tooLarge)).toThrow(/^4 bytes, the limit is 3\.$/);
    expect(() => bodyBytes(event('POST', { body: '@@', isBase64Encoded: true }), 3, tooLarge)).toThrow(InvalidBodyError);
  });

  it('refuses invalid UTF-8 in a binary body, saying where, and never replaces it with U+FFFD', () => {
    expect(() => bodyText(base64(Uint8Array.from([0x61, 0x62, 0xc3, 0x28])), 100, tooLarge)).toThrow(
      /^The body is not valid UTF-8 text \(the first invalid byte is at offset 2\)\. Nothing was stored\. Convert the text to UTF-8/,
    );
  });

  it('refuses U+FFFD in a text body (what invalid bytes become there) and accepts it sent as binary', () => {
    expect(() => bodyText(event('POST', { body: 'caf\ufffd' }), 100, tooLarge)).toThrow(/contains U\+FFFD/);
    expect(bodyText(base64(Buffer.from('caf\ufffd')), 100, tooLarge)).toBe('caf\ufffd');
  });

  it('finds the first invalid UTF-8 byte', () => {
    expect(firstInvalidUtf8(Buffer.from('héllo'))).toBe(Buffer.byteLength('héllo'));
    expect(firstInvalidUtf8(Uint8Array.from([0xff]))).toBe(0);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xe2, 0x82, 0x61]))).toBe(1);
  });
});
