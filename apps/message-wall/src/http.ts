// The API Gateway HTTP API side of the function: the payload 2.0 event and response, and turning
// an event into a request for the core (the event and result types are shared: @lambda-efs/lambda-http). No file system here.
import { httpMethodOf, stringField, type HttpApiEventV2, type HttpApiResultV2, type InvocationContext } from '@lambda-efs/lambda-http';

import {
  InvalidBodyError,
  InvalidQueryError,
  InvalidWallIdError,
  MessageTooLargeError,
  NotHttpEventError,
} from './errors.js';
import { parseTail } from './core/wall-store.js';
import { parseWallId, type WallId } from './core/wall-id.js';

/** What the client asked for, parsed and checked (except the message, which the core checks). */
export type WallRequest =
  | { readonly method: 'GET'; readonly wall: WallId; readonly tail: number | undefined }
  | { readonly method: 'POST'; readonly wall: WallId; readonly tail: number | undefined; readonly message: string }
  | { readonly method: 'DELETE'; readonly wall: WallId }
  | { readonly method: 'OTHER'; readonly wall: WallId; readonly name: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The request method, or throws {@link NotHttpEventError} for an event that is not an HTTP API one. */
export function methodOf(event: unknown): string {
  const method = httpMethodOf(event);
  if (method === undefined) throw new NotHttpEventError();
  return method;
}

/**
 * Parses an event into a {@link WallRequest}. Checks in the order a client can act on them: the
 * wall (400), the method (405 is reported by the caller), the query (400), the body (400, 413).
 */
export function parseRequest(event: unknown, maxMessageBytes: number): WallRequest {
  const method = methodOf(event);
  const http = event as HttpApiEventV2;
  const wall = wallOf(http);
  if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') return { method: 'OTHER', wall, name: method };
  const rawTail = stringField(http.queryStringParameters, 'tail');
  if (method === 'DELETE') {
    if (rawTail !== undefined) {
      throw new InvalidQueryError('tail applies to GET and POST only: DELETE removes every message of the wall. Send it without ?tail.');
    }
    return { method, wall };
  }
  const tail = rawTail === undefined ? undefined : parseTail(rawTail);
  if (method === 'GET') return { method, wall, tail };
  return { method, wall, tail, message: decodeBody(http, maxMessageBytes) };
}

/**
 * The wall named by the `{wall}` path parameter (API Gateway has already percent-decoded it), or
 * `null` for the top-level wall of `ANY /message-wall`.
 */
function wallOf(event: HttpApiEventV2): WallId {
  const raw = stringField(event.pathParameters, 'wall');
  if (raw !== undefined) return parseWallId(raw);
  if (typeof event.routeKey === 'string' && event.routeKey.includes('{wall}')) {
    throw new InvalidWallIdError('Wall id is missing: use /message-wall/<id> with 1 to 64 letters, digits, "-" or "_", or /message-wall for the shared wall.');
  }
  return null;
}

/** The body as text: base64 bodies decoded, and UTF-8 checked strictly. */
export function decodeBody(event: HttpApiEventV2, maxMessageBytes: number): string {
  const body: unknown = event.body;
  if (body === undefined || body === null) return '';
  if (typeof body !== 'string') throw new InvalidBodyError('The request body must be text. Send the message as the body, for example with curl -d.');
  if (event.isBase64Encoded !== true) return body;
  if (body.length % 4 !== 0 || !BASE64.test(body)) {
    throw new InvalidBodyError('The body is marked as base64 (isBase64Encoded) but is not valid base64. Send the message as plain UTF-8 text.');
  }
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  const bytes = (body.length / 4) * 3 - padding;
  // Refuse before decoding: a 10 MB body need not be copied to be found too large.
  if (bytes > maxMessageBytes) throw new MessageTooLargeError(bytes, maxMessageBytes);
  try {
    return utf8.decode(Buffer.from(body, 'base64'));
  } catch (error) {
    throw new InvalidBodyError(
      'Message is not valid UTF-8 text. Send it encoded as UTF-8 (for example with -H "Content-Type: text/plain; charset=utf-8").',
      { cause: error },
    );
  }
}

/** A `text/plain; charset=utf-8` response. */
export function textResponse(statusCode: number, body: string, headers: Readonly<Record<string, string>> = {}): HttpApiResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body,
    isBase64Encoded: false,
  };
}

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext };
