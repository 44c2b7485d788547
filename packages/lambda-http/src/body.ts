// Request bodies as API Gateway HTTP API hands them over: text content types as a string, every
// other one base64-encoded (isBase64Encoded). Sizes are checked before anything is decoded.
import { InvalidBodyError } from './errors.js';
import type { HttpApiEventV2 } from './event.js';

/** Builds the function's own 413 for a body of `bytes` bytes over `maxBytes`. */
export type TooLarge = (bytes: number, maxBytes: number) => Error;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const REPLACEMENT = '\uFFFD';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body's bytes: base64 decoded (after a size check), a text body as its UTF-8 encoding. Empty when there is none. */
export function bodyBytes(event: HttpApiEventV2, maxBytes: number, tooLarge: TooLarge): Buffer {
  const body = bodyString(event);
  if (event.isBase64Encoded !== true) {
    const bytes = Buffer.from(body, 'utf8');
    if (bytes.length > maxBytes) throw tooLarge(bytes.length, maxBytes);
    return bytes;
  }
  return decodeBase64(body, maxBytes, tooLarge);
}

/**
 * The body as text, never altered: a base64 body must be valid UTF-8 (checked strictly, never
 * replaced with U+FFFD), and a text body must not contain U+FFFD, which is what invalid UTF-8
 * bytes would have become before the function saw them.
 */
export function bodyText(event: HttpApiEventV2, maxBytes: number, tooLarge: TooLarge): string {
  const body = bodyString(event);
  if (event.isBase64Encoded !== true) {
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > maxBytes) throw tooLarge(bytes, maxBytes);
    if (body.includes(REPLACEMENT)) {
      throw new InvalidBodyError(
        'The body contains U+FFFD (the replacement character), which is what bytes that are not valid UTF-8 become when a text body ' +
          'is passed on, so the text may have been altered on its way here. Nothing was stored. Send the text encoded as UTF-8; ' +
          'to send U+FFFD itself, send the body as binary (-H "Content-Type: application/octet-stream").',
      );
    }
    return body;
  }
  const bytes = decodeBase64(body, maxBytes, tooLarge);
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new InvalidBodyError(
      `The body is not valid UTF-8 text (the first invalid byte is at offset ${firstInvalidUtf8(bytes)}). Nothing was stored. ` +
        'Convert the text to UTF-8 (for example with iconv -t UTF-8) and send it again; the Content-Type does not change the bytes.',
      { cause: error },
    );
  }
}

function bodyString(event: HttpApiEventV2): string {
  const body: unknown = event.body;
  if (body === undefined || body === null) return '';
  if (typeof body !== 'string')
    throw new InvalidBodyError('The request body must be a string in the event (payload format 2.0). Send the body as is.');
  return body;
}

function decodeBase64(body: string, maxBytes: number, tooLarge: TooLarge): Buffer {
  if (body.length % 4 !== 0 || !BASE64.test(body)) {
    throw new InvalidBodyError(
      'The body is marked as base64 (isBase64Encoded) but is not valid base64. Send the body as is: API Gateway encodes it.',
    );
  }
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  const bytes = (body.length / 4) * 3 - padding;
  // Refuse before decoding: a body too large need not be copied to be found so.
  if (bytes > maxBytes) throw tooLarge(bytes, maxBytes);
  return Buffer.from(body, 'base64');
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.length;
  // Binary search on the longest valid prefix (a prefix ending mid-sequence counts as invalid).
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (isValidUtf8Prefix(bytes.subarray(0, mid))) low = mid;
    else high = mid - 1;
  }
  // `low` is the byte that broke a sequence; report where that sequence started.
  if (low > 0 && !isValidUtf8Prefix(bytes.subarray(0, low), false)) {
    let start = low;
    while (start > 0 && low - start < 3 && ((bytes[start - 1] ?? 0) & 0xc0) === 0x80) start -= 1;
    if (start > 0 && (bytes[start - 1] ?? 0) >= 0xc0) start -= 1;
    return start;
  }
  return low;
}

function isValidUtf8Prefix(bytes: Uint8Array, stream = true): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream });
    return true;
  } catch {
    return false;
  }
}
