// The HTTP side of the function that is its own: turning an event into the wall, the tail and the
// message for the core. The plumbing (method check, body decoding, errors, logs) is
// @lambda-efs/lambda-http's adapter. No file system here.
import { stringField, type HttpApiEventV2, type HttpApiResultV2, type HttpRequest, type InvocationContext } from '@lambda-efs/lambda-http';

import { InvalidQueryError, InvalidWallIdError, MessageTooLargeError } from './errors.js';
import { parseTail } from './core/wall-store.js';
import { parseWallId, type WallId } from './core/wall-id.js';

/**
 * The wall named by the `{wall}` path parameter (API Gateway has already percent-decoded it), or
 * `null` for the top-level wall of `ANY /message-wall`.
 */
export function wallOf(event: HttpApiEventV2): WallId {
  const raw = stringField(event.pathParameters, 'wall');
  if (raw !== undefined) return parseWallId(raw);
  if (typeof event.routeKey === 'string' && event.routeKey.includes('{wall}')) {
    throw new InvalidWallIdError(
      'Wall id is missing: use /message-wall/<id> with 1 to 64 letters, digits, "-" or "_", or /message-wall for the shared wall.',
    );
  }
  return null;
}

/** `?tail=`, for GET and POST. */
export function tailOf(event: HttpApiEventV2): number | undefined {
  const raw = stringField(event.queryStringParameters, 'tail');
  return raw === undefined ? undefined : parseTail(raw);
}

/** DELETE takes no `?tail`: it removes every message. */
export function refuseTail(event: HttpApiEventV2): void {
  if (stringField(event.queryStringParameters, 'tail') !== undefined) {
    throw new InvalidQueryError('tail applies to GET and POST only: DELETE removes every message of the wall. Send it without ?tail.');
  }
}

/** The message of a POST: the body as UTF-8 text, never altered (the core checks the rest). */
export function messageOf(request: HttpRequest, maxMessageBytes: number): string {
  return request.text(maxMessageBytes, (bytes, max) => new MessageTooLargeError(bytes, max));
}

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext };
