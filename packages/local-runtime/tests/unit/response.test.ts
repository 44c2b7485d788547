import { describe, expect, it } from 'vitest';

import { resultValue } from '../../src/environments/protocol.js';
import { GATEWAY_RESPONSES, mapResult, type HttpResponse } from '../../src/http/response.js';

/** Maps `result` as it may cross from the environment, JSON text or plain value: both must agree. */
function mapBoth(result: unknown): ReturnType<typeof mapResult> {
  const fromJson = mapResult({ json: JSON.stringify(result) });
  expect(mapResult({ value: result })).toEqual(fromJson);
  return fromJson;
}

function mapped(result: unknown): HttpResponse {
  const response = mapBoth(result);
  if ('malformed' in response) throw new Error(response.malformed);
  return response;
}

describe('mapResult (payload 2.0 responses)', () => {
  it('answers 200 with the string itself as the body, typed as JSON', () => {
    const response = mapped('Hello from Lambda!');
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe('Hello from Lambda!');
    expect(response.headers).toEqual([['content-type', 'application/json']]);
  });

  it.each([
    [{ message: 'hi' }, '{"message":"hi"}'],
    [[1, 2], '[1,2]'],
    [42, '42'],
    [true, 'true'],
    [null, 'null'],
  ])('answers 200 JSON with the whole value %j when it has no statusCode', (value, body) => {
    const response = mapped(value);
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe(body);
    expect(response.headers).toEqual([['content-type', 'application/json']]);
  });

  it('honours a structured result: status, headers, cookies as set-cookie, body', () => {
    const response = mapped({
      statusCode: 201,
      headers: { 'content-type': 'text/html', 'x-count': 3, 'x-flag': true },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '<p>made</p>',
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual([
      ['content-type', 'text/html'],
      ['x-count', '3'],
      ['x-flag', 'true'],
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'b=2'],
    ]);
    expect(response.body.toString()).toBe('<p>made</p>');
  });

  it('decodes a base64 body when isBase64Encoded is true', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const response = mapped({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });
    expect(response.body).toEqual(bytes);
  });

  it('answers a structured result without content-type as text/plain and without body as empty', () => {
    const response = mapped({ statusCode: 204 });
    expect(response.headers).toEqual([['content-type', 'text/plain; charset=utf-8']]);
    expect(response.body.length).toBe(0);
  });

  it.each([
    [{ statusCode: '200', body: 'x' }, /statusCode/],
    [{ statusCode: 99 }, /statusCode/],
    [{ statusCode: 200.5 }, /statusCode/],
    [{ statusCode: 200, body: { a: 1 } }, /body must be a string/],
    [{ statusCode: 200, headers: ['a'] }, /headers/],
    [{ statusCode: 200, headers: { a: { b: 1 } } }, /header "a"/],
    [{ statusCode: 200, headers: { 'bad name': 'x' } }, /header name/],
    [{ statusCode: 200, headers: { a: 'x\r\ny: z' } }, /line break/],
    [{ statusCode: 200, cookies: 'a=1' }, /cookies/],
    [{ statusCode: 200, isBase64Encoded: 'yes' }, /isBase64Encoded/],
  ])('calls %j malformed (API Gateway answers 500)', (result, reason) => {
    const response = mapBoth(result);
    expect('malformed' in response && response.malformed).toMatch(reason);
  });

  it('calls a result that is not JSON malformed', () => {
    expect(mapResult({ json: '{' })).toEqual({ malformed: 'the result is not valid JSON' });
  });
});

describe('API Gateway’s own answers', () => {
  it.each([
    ['notFound', 404, '{"message":"Not Found"}'],
    ['internalServerError', 500, '{"message":"Internal Server Error"}'],
    ['serviceUnavailable', 503, '{"message":"Service Unavailable"}'],
    ['invokePayloadTooLarge', 413, '{"message":"Request Too Long"}'],
    ['headersTooLarge', 431, '{"message":"Request Header Fields Too Large"}'],
  ] as const)('%s is %i %s', (name, status, body) => {
    expect(GATEWAY_RESPONSES[name].statusCode).toBe(status);
    expect(GATEWAY_RESPONSES[name].body.toString()).toBe(body);
  });
});

describe('mapResult: a structured result whose text body crossed as bytes', () => {
  it('answers the same as the result with the body as text (what the environment sends for large bodies)', () => {
    const text = `${'a wall line, ünïcode too 🙂\n'.repeat(400)}`;
    const result = {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: text,
      isBase64Encoded: false,
    };
    const asBytes = mapResult({ value: { ...result, body: '' }, body: Buffer.from(text, 'utf8') });
    expect(asBytes).toEqual(mapBoth(result));
  });

  it('still refuses a malformed result whose body crossed as bytes', () => {
    expect(mapResult({ value: { statusCode: 99, body: '' }, body: Buffer.from('x') })).toHaveProperty('malformed');
  });

  it('puts the text back in place for the Invoke API (resultValue), keys in their order', () => {
    const value = { statusCode: 200, body: '', isBase64Encoded: false };
    expect(JSON.stringify(resultValue({ value, body: Buffer.from('héllo\n') }))).toBe(
      '{"statusCode":200,"body":"héllo\\n","isBase64Encoded":false}',
    );
    expect(resultValue({ value: 'plain' })).toBe('plain');
  });
});
