import { randomBytes } from 'node:crypto';

import type { HttpApiEvent } from './payload.js';
import type { RouteMatch } from './router.js';

/** What the event is built from: the parts of one HTTP request, already read. */
export interface RequestParts {
  readonly method: string;
  /** The request target as sent: path and query string. */
  readonly url: string;
  /** @example '1.1' */
  readonly httpVersion: string;
  /** Node's `rawHeaders`: name, value, name, value… in the order received, names as sent. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  /** The port the server listens on (API Gateway sends 443 in `x-forwarded-port`). */
  readonly localPort: number;
  /** API Gateway's request id (see {@link newApiRequestId}). */
  readonly requestId: string;
  /** When the request arrived, ms since the epoch. */
  readonly timeEpoch: number;
  /** The `x-amzn-trace-id` value (see {@link newTraceId}). */
  readonly traceId: string;
}

/** The values API Gateway's sample events use where the local runtime has nothing real to put. */
export const LOCAL_ACCOUNT_ID = '123456789012';
const LOCAL_API_ID = 'local';

// Text arrives as text; every other content type, and none, arrives base64 (observed on AWS).
const TEXT_MEDIA_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

/** Whether API Gateway passes a body of this `content-type` as UTF-8 text rather than base64. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType.startsWith('text/') || TEXT_MEDIA_TYPES.has(mediaType);
}

/**
 * The HTTP API payload format 2.0 event for a request, field for field as API Gateway builds it:
 * header names lower-cased and duplicates joined with commas, the `cookie` header moved to
 * `cookies`, query parameters decoded and duplicates joined, empty fields absent.
 */
export function buildEvent(request: RequestParts, match: RouteMatch): HttpApiEvent {
  const { headers, cookies } = collectHeaders(request);
  const question = request.url.indexOf('?');
  const rawPath = question === -1 ? request.url : request.url.slice(0, question);
  const rawQueryString = question === -1 ? '' : request.url.slice(question + 1);
  const queryStringParameters = parseQuery(rawQueryString);
  const host = headers['host'] ?? `127.0.0.1:${request.localPort}`;
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? host);

  const hasBody = request.body.length > 0;
  const text = isTextContentType(headers['content-type']);
  // Keys in the order of AWS's documented sample, so a printed event reads like one from AWS;
  // optional fields are added only when they have a value.
  const event: Record<string, unknown> = { version: '2.0', routeKey: match.routeKey, rawPath, rawQueryString };
  if (cookies.length > 0) event['cookies'] = cookies;
  event['headers'] = headers;
  if (queryStringParameters !== undefined) event['queryStringParameters'] = queryStringParameters;
  event['requestContext'] = {
    accountId: LOCAL_ACCOUNT_ID,
    apiId: LOCAL_API_ID,
    domainName: host,
    domainPrefix: hostname.split('.')[0] ?? hostname,
    http: {
      method: request.method,
      path: rawPath,
      protocol: `HTTP/${request.httpVersion}`,
      sourceIp: request.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: request.requestId,
    routeKey: match.routeKey,
    stage: '$default',
    time: formatRequestTime(request.timeEpoch),
    timeEpoch: request.timeEpoch,
  } satisfies HttpApiEvent['requestContext'];
  if (hasBody) event['body'] = text ? request.body.toString('utf8') : request.body.toString('base64');
  if (match.pathParameters !== undefined) event['pathParameters'] = match.pathParameters;
  event['isBase64Encoded'] = hasBody && !text;
  return event as unknown as HttpApiEvent;
}

function collectHeaders(request: RequestParts): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = (raw[index] ?? '').toLowerCase();
    const value = raw[index + 1] ?? '';
    if (name === 'cookie') {
      for (const part of value.split(';')) {
        const cookie = part.trim();
        if (cookie !== '') cookies.push(cookie);
      }
      continue;
    }
    const known = headers[name];
    headers[name] = known === undefined ? value : `${known},${value}`;
  }
  // The headers API Gateway adds on its way to the integration.
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor === undefined ? request.sourceIp : `${forwardedFor}, ${request.sourceIp}`;
  headers['x-forwarded-port'] = String(request.localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] = request.traceId;
  return { headers, cookies };
}

function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  let parameters: Record<string, string> | undefined;
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = decodeQueryComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decodeQueryComponent(pair.slice(equals + 1));
    parameters ??= {};
    const known = parameters[key];
    parameters[key] = known === undefined ? value : `${known},${value}`;
  }
  return parameters;
}

function decodeQueryComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time`: CLF-style, always UTC. @example '12/Mar/2020:19:03:58 +0000' */
export function formatRequestTime(epochMs: number): string {
  const date = new Date(epochMs);
  const two = (value: number): string => String(value).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()] ?? ''}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

// Random bytes for ids come from a pool filled 4 KiB at a time: one call into the CSPRNG per
// ~180 requests instead of two per request.
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomSlice(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + size);
  poolOffset += size;
  return slice;
}

/** An API Gateway request id: 11 random bytes in base64 with `-` and `_`, like `"LV7fzho-PHcEJPw="`. */
export function newApiRequestId(): string {
  return randomSlice(11).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

/** An X-Ray trace header as API Gateway adds it: `Root=1-<epoch seconds hex>-<96 random bits hex>`. */
export function newTraceId(epochMs: number): string {
  return `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomSlice(12).toString('hex')}`;
}
