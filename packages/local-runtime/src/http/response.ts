import type { FunctionResult } from '../environments/protocol.js';

/** An HTTP response ready to write: status, headers as `[name, value]` pairs, body bytes. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

/** Why a function's result could not be mapped: API Gateway answers 500 and logs this. */
export interface MalformedResult {
  readonly malformed: string;
}

const JSON_TYPE = 'application/json';
// What API Gateway sends when a structured result sets no content-type (observed).
const DEFAULT_STRUCTURED_TYPE = 'text/plain; charset=utf-8';

/**
 * Maps a function's result (the JSON text Lambda serialized, or the plain value that text would
 * parse to) to the HTTP response API Gateway sends for payload format 2.0:
 * - an object with `statusCode` is used as given: `headers`, `body`, `isBase64Encoded`, and each
 *   of `cookies` as one `set-cookie`; a field of the wrong type makes it malformed (500);
 * - a string is a 200 with that string as the body;
 * - any other JSON value (object without `statusCode`, array, number, `null`…) is a 200 whose
 *   body is the JSON text.
 * The last two get `content-type: application/json`, as API Gateway assumes.
 */
export function mapResult(result: FunctionResult): HttpResponse | MalformedResult {
  let value: unknown;
  if ('json' in result) {
    try {
      value = JSON.parse(result.json);
    } catch {
      return { malformed: 'the result is not valid JSON' };
    }
  } else if (result.body !== undefined) {
    // A structured result whose text body crossed as its UTF-8 bytes: written as they are.
    const bytes = Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength);
    return mapStructured(result.value as Record<string, unknown>, bytes);
  } else {
    value = result.value;
  }
  if (typeof value === 'string') return json200(Buffer.from(value, 'utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('statusCode' in value)) {
    return json200(Buffer.from('json' in result ? result.json : JSON.stringify(value), 'utf8'));
  }
  return mapStructured(value as Record<string, unknown>);
}

function json200(body: Buffer): HttpResponse {
  return { statusCode: 200, headers: [['content-type', JSON_TYPE]], body };
}

/** `bodyBytes`: the text body's UTF-8 bytes when they crossed beside the result (its `body` is then ''). */
function mapStructured(result: Record<string, unknown>, bodyBytes?: Buffer): HttpResponse | MalformedResult {
  const { statusCode, headers, cookies, body, isBase64Encoded } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return { malformed: `statusCode ${JSON.stringify(statusCode)} is not an HTTP status code (an integer from 100 to 599)` };
  }
  const pairs: [string, string][] = [];
  let hasContentType = false;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) {
      return { malformed: 'headers must be an object of header names to string values' };
    }
    for (const [name, headerValue] of Object.entries(headers)) {
      if (typeof headerValue !== 'string' && typeof headerValue !== 'number' && typeof headerValue !== 'boolean') {
        return { malformed: `header "${name}" must have a string value` };
      }
      if (!isHeaderName(name)) return { malformed: `"${name}" is not a valid header name` };
      const text = String(headerValue);
      if (/[\r\n]/.test(text)) return { malformed: `header "${name}" contains a line break` };
      if (name.toLowerCase() === 'content-type') hasContentType = true;
      pairs.push([name, text]);
    }
  }
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies) || cookies.some((cookie) => typeof cookie !== 'string' || /[\r\n]/.test(cookie))) {
      return { malformed: 'cookies must be an array of strings' };
    }
    for (const cookie of cookies as string[]) pairs.push(['set-cookie', cookie]);
  }
  if (isBase64Encoded !== undefined && isBase64Encoded !== null && typeof isBase64Encoded !== 'boolean') {
    return { malformed: 'isBase64Encoded must be true or false' };
  }
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return { malformed: `body must be a string (it is ${Array.isArray(body) ? 'an array' : typeof body}); JSON.stringify it` };
  }
  if (!hasContentType) pairs.push(['content-type', DEFAULT_STRUCTURED_TYPE]);
  if (bodyBytes !== undefined) return { statusCode, headers: pairs, body: bodyBytes };
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers: pairs,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/**
 * The answers API Gateway itself gives, body and status as a client sees them (see
 * platform-facts.md; bodies marked "observed" come from users' reports, not AWS documentation).
 */
export const GATEWAY_RESPONSES = Object.freeze({
  /** No route and no `$default`. */
  notFound: gateway(404, { message: 'Not Found' }),
  /** Function error, crash, timeout, malformed result, or a throttle (Lambda's 429 becomes a 500). */
  internalServerError: gateway(500, { message: 'Internal Server Error' }),
  /** The integration did not answer within 30 s (observed). */
  serviceUnavailable: gateway(503, { message: 'Service Unavailable' }),
  /** Body over API Gateway's 10 MB (observed text). */
  requestTooLarge: {
    statusCode: 413,
    headers: [['content-type', 'text; charset=utf-8']],
    body: Buffer.from('HTTP content length exceeded 10485760 bytes.'),
  } satisfies HttpResponse,
  /** Event over Lambda's 6 MB synchronous payload (observed body). */
  invokePayloadTooLarge: gateway(413, { message: 'Request Too Long' }),
  /** Request line and headers over 10,240 bytes. */
  headersTooLarge: gateway(431, { message: 'Request Header Fields Too Large' }),
});

function gateway(statusCode: number, body: object): HttpResponse {
  return { statusCode, headers: [['content-type', JSON_TYPE]], body: Buffer.from(JSON.stringify(body)) };
}
