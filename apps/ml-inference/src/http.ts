// The API Gateway HTTP API side of the function: the payload 2.0 event and response, and turning
// an event into a request for the core (the event and result types are shared: @lambda-efs/lambda-http). No file system and no network here.
import { httpMethodOf, isRecord, stringField, type HttpApiEventV2, type HttpApiResultV2, type InvocationContext } from '@lambda-efs/lambda-http';

import {
  EmptyImageError,
  ImageTooLargeError,
  InvalidRequestError,
  NotHttpEventError,
} from './errors.js';

/** What the client asked for, parsed and checked. */
export type ClassifyRequest =
  | { readonly kind: 'url'; readonly url: string; readonly top: number }
  | { readonly kind: 'upload'; readonly bytes: Buffer; readonly top: number };

export const DEFAULT_TOP = 5;
export const MAX_TOP = 20;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const USAGE =
  'Classify an image with GET /ml-inference?url=<URL-encoded image URL> (optionally &top=1..20), ' +
  'or POST /ml-inference with the image as the body (curl --data-binary @bird.jpg -H "Content-Type: image/jpeg").';

/** The request method, or throws {@link NotHttpEventError} for an event that is not an HTTP API one. */
export function methodOf(event: unknown): string {
  const method = httpMethodOf(event);
  if (method === undefined) throw new NotHttpEventError();
  return method;
}

/**
 * Parses a GET or POST event: `?url=` for GET, the body for POST, `?top=` for both. The body is
 * decoded from base64 when API Gateway encoded it, and its size checked before decoding.
 */
export function parseClassifyRequest(event: HttpApiEventV2, method: 'GET' | 'POST', maxBytes: number): ClassifyRequest {
  const query = isRecord(event.queryStringParameters) ? event.queryStringParameters : {};
  const top = parseTop(stringField(query, 'top'));
  const url = stringField(query, 'url');
  if (method === 'GET') {
    if (url === undefined || url.trim() === '') throw new InvalidRequestError(`The url parameter is missing. ${USAGE}`);
    return { kind: 'url', url: url.trim(), top };
  }
  if (url !== undefined) {
    throw new InvalidRequestError(`Send the image either as a URL (GET ?url=) or as the POST body, not both. ${USAGE}`);
  }
  return { kind: 'upload', bytes: decodeBody(event, maxBytes), top };
}

export function parseTop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TOP;
  const value = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_TOP) {
    throw new InvalidRequestError(`top must be a whole number from 1 to ${MAX_TOP} (how many predictions to return), got "${raw.slice(0, 40)}".`);
  }
  return value;
}

/** The POST body as bytes: base64 bodies decoded (after a size check), text bodies as UTF-8. */
export function decodeBody(event: HttpApiEventV2, maxBytes: number): Buffer {
  const body: unknown = event.body;
  const what = 'The uploaded image';
  if (body === undefined || body === null || body === '') throw new EmptyImageError(what);
  if (typeof body !== 'string') throw new InvalidRequestError(`The request body must be the image file. ${USAGE}`);
  if (event.isBase64Encoded !== true) {
    // API Gateway passes text content types as text: an image sent as text/plain arrives mangled,
    // and the format check will say so.
    const bytes = Buffer.from(body, 'utf8');
    if (bytes.length > maxBytes) throw new ImageTooLargeError(what, maxBytes);
    return bytes;
  }
  if (body.length % 4 !== 0 || !BASE64.test(body)) {
    throw new InvalidRequestError('The body is marked as base64 (isBase64Encoded) but is not valid base64. Send the image file as the body.');
  }
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  // Refuse before decoding: a body too large need not be copied to be found so.
  if ((body.length / 4) * 3 - padding > maxBytes) throw new ImageTooLargeError(what, maxBytes);
  return Buffer.from(body, 'base64');
}

/** An `application/json` response. */
export function jsonResponse(statusCode: number, value: unknown, headers: Readonly<Record<string, string>> = {}): HttpApiResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
    isBase64Encoded: false,
  };
}

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext };
