import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { buildEvent, formatRequestTime, isTextContentType, newApiRequestId, newTraceId, type RequestParts } from '../../src/http/event.js';

const SAMPLE = JSON.parse(readFileSync(new URL('../events/aws-sample-v2.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const TRACE = 'Root=1-5e6a9f5e-0123456789abcdef01234567';

/** The request behind AWS's documented payload 2.0 sample. */
function sampleRequest(overrides: Partial<RequestParts> = {}): RequestParts {
  return {
    method: 'POST',
    url: '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
    httpVersion: '1.1',
    rawHeaders: [
      'Header1',
      'value1',
      'header2',
      'value1',
      'HEADER2',
      'value2',
      'Cookie',
      'cookie1; cookie2',
      'Host',
      'id.execute-api.us-east-1.amazonaws.com',
      'User-Agent',
      'agent',
      'Content-Type',
      'text/plain',
    ],
    body: Buffer.from('Hello from Lambda'),
    sourceIp: '192.0.2.1',
    localPort: 3000,
    requestId: 'id',
    timeEpoch: 1583348638390,
    traceId: TRACE,
    ...overrides,
  };
}

const SAMPLE_MATCH = { routeKey: '$default', functionName: 'f', pathParameters: { parameter1: 'value1' } };

describe('buildEvent', () => {
  it('builds every field of AWS’s documented sample event, in its key order', () => {
    const event = buildEvent(sampleRequest(), SAMPLE_MATCH) as unknown as Record<string, unknown>;
    const expected = structuredClone(SAMPLE) as Record<string, unknown> & {
      requestContext: Record<string, unknown>;
      headers: Record<string, string>;
    };
    // Not configured locally: no authorizer, no client certificate, no stage variables.
    delete expected.requestContext['authentication'];
    delete expected.requestContext['authorizer'];
    delete expected['stageVariables'];
    expected.requestContext['apiId'] = 'local';
    // AWS's sample pairs a `time` with an unrelated `timeEpoch`; the runtime derives one from the other.
    expected.requestContext['time'] = '04/Mar/2020:19:03:58 +0000';
    // The request's own headers, then the ones API Gateway adds.
    Object.assign(expected.headers, {
      host: 'id.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'agent',
      'content-type': 'text/plain',
      'x-forwarded-for': '192.0.2.1',
      'x-forwarded-port': '3000',
      'x-forwarded-proto': 'http',
      'x-amzn-trace-id': TRACE,
    });
    expect(event).toEqual(expected);
    expect(Object.keys(event)).toEqual(Object.keys(expected));
    expect(Object.keys(event['requestContext'] as object)).toEqual(Object.keys(expected.requestContext));
  });

  it('omits cookies, query parameters, body and path parameters when there are none', () => {
    const event = buildEvent(
      sampleRequest({ method: 'GET', url: '/my/path', rawHeaders: ['Host', 'localhost:3000'], body: Buffer.alloc(0) }),
      { routeKey: 'GET /my/path', functionName: 'f', pathParameters: undefined },
    );
    expect(Object.keys(event)).toEqual([
      'version',
      'routeKey',
      'rawPath',
      'rawQueryString',
      'headers',
      'requestContext',
      'isBase64Encoded',
    ]);
    expect(event.rawQueryString).toBe('');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.http.userAgent).toBe('');
    expect(event.requestContext.domainName).toBe('localhost:3000');
    expect(event.requestContext.domainPrefix).toBe('localhost');
  });

  it('decodes query parameters, joins duplicates with commas and keeps the raw query string as sent', () => {
    const event = buildEvent(sampleRequest({ url: '/p?a=1&a=2&b=x%20y&c=a+b&flag&=e&' }), SAMPLE_MATCH);
    expect(event.rawQueryString).toBe('a=1&a=2&b=x%20y&c=a+b&flag&=e&');
    expect(event.queryStringParameters).toEqual({ a: '1,2', b: 'x y', c: 'a b', flag: '', '': 'e' });
  });

  it('appends the client address to an x-forwarded-for the client sent', () => {
    const event = buildEvent(sampleRequest({ rawHeaders: ['X-Forwarded-For', '203.0.113.9'] }), SAMPLE_MATCH);
    expect(event.headers['x-forwarded-for']).toBe('203.0.113.9, 192.0.2.1');
  });
});

describe('request bodies', () => {
  const binary = Buffer.from([0, 1, 2, 250, 255]);
  it.each([
    ['text/plain', true],
    ['text/html; charset=utf-8', true],
    ['TEXT/CSV', true],
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/xml', true],
    ['application/javascript', true],
    ['application/octet-stream', false],
    ['application/x-www-form-urlencoded', false],
    ['multipart/form-data; boundary=x', false],
    ['image/png', false],
    ['application/vnd.api+json', false],
    [undefined, false],
  ])('content-type %s arrives as text: %s', (contentType, text) => {
    expect(isTextContentType(contentType)).toBe(text);
    const rawHeaders = contentType === undefined ? [] : ['Content-Type', contentType];
    const event = buildEvent(sampleRequest({ rawHeaders, body: binary }), SAMPLE_MATCH);
    expect(event.isBase64Encoded).toBe(!text);
    expect(event.body).toBe(text ? binary.toString('utf8') : binary.toString('base64'));
  });
});

describe('identifiers and times', () => {
  it('formats requestContext.time as API Gateway does, in UTC', () => {
    expect(formatRequestTime(Date.UTC(2020, 2, 12, 19, 3, 58, 390))).toBe('12/Mar/2020:19:03:58 +0000');
    expect(formatRequestTime(Date.UTC(2024, 0, 5, 4, 5, 6))).toBe('05/Jan/2024:04:05:06 +0000');
  });

  it('makes request ids shaped like API Gateway’s and trace ids like X-Ray’s', () => {
    expect(newApiRequestId()).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(newTraceId(1583348638390)).toMatch(/^Root=1-5e5ffb9e-[0-9a-f]{24}$/);
  });
});
