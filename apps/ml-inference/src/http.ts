// The HTTP side of the function that is its own: turning an event into a classification request,
// and recognising the function's own API in image URLs. The plumbing (method check, body
// decoding, errors, logs) is @lambda-efs/lambda-http's adapter. No file system and no network here.
import {
  isRecord,
  stringField,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type HttpRequest,
  type InvocationContext,
} from '@lambda-efs/lambda-http';

import { EmptyImageError, HOP_HEADER, ImageTooLargeError, InvalidRequestError, SelfFetchError } from './errors.js';

/** What the client asked for, parsed and checked. */
export type ClassifyRequest =
  | { readonly kind: 'url'; readonly url: string; readonly top: number }
  | { readonly kind: 'upload'; readonly bytes: Buffer; readonly top: number };

const DEFAULT_TOP = 5;
const MAX_TOP = 20;

const USAGE =
  'Classify an image with GET /ml-inference?url=<URL-encoded image URL> (optionally &top=1..20), ' +
  'or POST /ml-inference with the image as the body (curl --data-binary @bird.jpg -H "Content-Type: image/jpeg").';

export const METHOD_NOT_ALLOWED = (method: string): string =>
  `Method ${method} is not supported: use GET /ml-inference?url=<image URL>, or POST /ml-inference with the image as the body.`;

/**
 * Parses a GET or POST request: `?url=` for GET, the body for POST, `?top=` for both. The body is
 * decoded from base64 when API Gateway encoded it, and its size checked before decoding.
 */
export function parseClassifyRequest(request: HttpRequest, maxBytes: number): ClassifyRequest {
  const { event } = request;
  refuseOwnFetch(event);
  const query = isRecord(event.queryStringParameters) ? event.queryStringParameters : {};
  const top = parseTop(stringField(query, 'top'));
  const url = stringField(query, 'url');
  if (request.method === 'GET') {
    if (url === undefined || url.trim() === '') throw new InvalidRequestError(`The url parameter is missing. ${USAGE}`);
    return { kind: 'url', url: url.trim(), top };
  }
  if (url !== undefined) {
    throw new InvalidRequestError(`Send the image either as a URL (GET ?url=) or as the POST body, not both. ${USAGE}`);
  }
  const what = 'The uploaded image';
  // API Gateway passes text content types as text: an image sent as text/plain arrives mangled,
  // and the format check will say so.
  const bytes = request.bytes(maxBytes, () => new ImageTooLargeError(what, maxBytes));
  if (bytes.length === 0) throw new EmptyImageError(what);
  return { kind: 'upload', bytes, top };
}

export function parseTop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TOP;
  const value = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_TOP) {
    throw new InvalidRequestError(
      `top must be a whole number from 1 to ${MAX_TOP} (how many predictions to return), got "${raw.slice(0, 40)}".`,
    );
  }
  return value;
}

/** A request made by the function's own image fetch (it carries {@link HOP_HEADER}) is refused: 508, nothing fetched. */
function refuseOwnFetch(event: HttpApiEventV2): void {
  if (stringField(event.headers, HOP_HEADER) === undefined) return;
  throw new SelfFetchError(
    `This request was made by the classifier itself while fetching an image URL (it carries ${HOP_HEADER}): ` +
      'an image URL that leads back to the classifier would make it call itself. Use the image’s own URL.',
    508,
  );
}

/**
 * Recognises URLs of the API that received `event`: the host the client called (`host`, or
 * `requestContext.domainName`) and API Gateway's default endpoint of the same API
 * (`<apiId>.execute-api.<region>.amazonaws.com`, any region). A host called with an explicit port
 * (the local runtime's 127.0.0.1:3000) matches on that port only.
 */
export function ownApiMatcher(event: HttpApiEventV2): (url: URL) => boolean {
  const selves = [stringField(event.headers, 'host'), event.requestContext?.domainName]
    .filter((host): host is string => typeof host === 'string' && host !== '')
    .map(splitHost);
  const apiId = event.requestContext?.apiId;
  const endpoint =
    typeof apiId === 'string' && /^[a-z0-9]+$/.test(apiId)
      ? new RegExp(`^${apiId}\\.execute-api\\.[a-z0-9-]+\\.amazonaws\\.com$`)
      : undefined;
  return (url) => {
    const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
    const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
    if (endpoint?.test(hostname) === true) return true;
    return selves.some((self) => self.hostname === hostname && (self.port === undefined || self.port === port));
  };
}

function splitHost(host: string): { hostname: string; port: string | undefined } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  const hostname = (match?.[1] ?? host).replace(/\.$/, '');
  return { hostname, port: match?.[2] };
}

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext };
