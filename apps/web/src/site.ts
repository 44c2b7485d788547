// The core: which bytes and headers answer a request for the page or one of its assets. Plain
// TypeScript over the embedded site (no Lambda types, no file system, no network).
import { AssetNotFoundError } from './errors.js';

/** One file of the site, embedded at build time (`scripts/build-site.mjs`). */
export interface Asset {
  /** The `content-type` header, with its charset. */
  readonly contentType: string;
  /** The file as UTF-8 text (the page, its script and its stylesheet are all text). */
  readonly text: string;
  /** The file gzip-compressed, base64-encoded (what the response body carries when the client accepts gzip). */
  readonly gzipBase64: string;
  /** SHA-256 of `text`, hex; the first 8 digits are in a hashed asset's name, the first 16 in its ETag. */
  readonly sha256: string;
  /** Size of `text` in UTF-8 bytes. */
  readonly bytes: number;
  /** Size of the gzip-compressed file in bytes. */
  readonly gzipBytes: number;
}

/** The page and its assets, by name (`app.3f2a9c1e.js` is served at `/assets/app.3f2a9c1e.js`). */
export interface Site {
  readonly page: Asset;
  readonly assets: Readonly<Record<string, Asset>>;
}

/** What the client asked for. */
export interface SiteRequest {
  readonly method: 'GET' | 'HEAD';
  /** The page (`GET /`), or an asset by its name below `/assets/`. */
  readonly target: { readonly kind: 'page' } | { readonly kind: 'asset'; readonly name: string };
  /** The `accept-encoding` request header, if any. */
  readonly acceptEncoding?: string | undefined;
  /** The `if-none-match` request header, if any. */
  readonly ifNoneMatch?: string | undefined;
}

/** The answer, ready to become an HTTP response. `body` is base64 when `base64` is true. */
export interface SiteResponse {
  readonly status: 200 | 304;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly base64: boolean;
  /** Bytes of the body on the wire (0 for HEAD and 304). */
  readonly bodyBytes: number;
  readonly gzip: boolean;
}

/**
 * The Content-Security-Policy of every answer: nothing inline (no script, no style attribute), nothing
 * from another origin, images only from the page itself, object URLs (the classifier's preview) and
 * data: URLs, requests only to the same API. Trusted Types with no policy make every HTML sink
 * (`innerHTML`, `outerHTML`, `insertAdjacentHTML`, `document.write`) throw: the page only ever sets
 * `textContent`, and the browser enforces it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers every answer carries, errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
});

/** Hashed assets never change under their name: caches keep them a year without asking again. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The page names the current assets, so it is revalidated on every load (a cheap 304 with its ETag). */
export const PAGE_CACHE_CONTROL = 'no-cache';

// Names as the build writes them: no "/", no "..", nothing a path could be built from.
const ASSET_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/**
 * Answers a request for the page or an asset: 200 with the file (gzip-compressed when the client
 * accepts it), or 304 when `If-None-Match` names its current ETag.
 * @throws {AssetNotFoundError} for an asset name the site does not have
 * @example
 * respond(site, { method: 'GET', target: { kind: 'page' }, acceptEncoding: 'gzip, br' });
 */
export function respond(site: Site, request: SiteRequest): SiteResponse {
  const { target } = request;
  const asset = target.kind === 'page' ? site.page : findAsset(site, target.name);
  const gzip = acceptsGzip(request.acceptEncoding);
  const etag = `"${asset.sha256.slice(0, 16)}${gzip ? '-gz' : ''}"`;
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': asset.contentType,
    'cache-control': target.kind === 'page' ? PAGE_CACHE_CONTROL : ASSET_CACHE_CONTROL,
    etag,
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  };
  if (matchesEtag(request.ifNoneMatch, etag)) {
    return { status: 304, headers, body: '', base64: false, bodyBytes: 0, gzip };
  }
  if (request.method === 'HEAD') return { status: 200, headers, body: '', base64: false, bodyBytes: 0, gzip };
  return gzip
    ? { status: 200, headers, body: asset.gzipBase64, base64: true, bodyBytes: asset.gzipBytes, gzip }
    : { status: 200, headers, body: asset.text, base64: false, bodyBytes: asset.bytes, gzip };
}

function findAsset(site: Site, name: string): Asset {
  // hasOwn: "constructor" or "__proto__" must not find Object.prototype's members.
  if (!ASSET_NAME.test(name) || !Object.hasOwn(site.assets, name)) throw new AssetNotFoundError(name);
  const asset = site.assets[name];
  if (asset === undefined) throw new AssetNotFoundError(name);
  return asset;
}

/**
 * Whether `Accept-Encoding` accepts gzip: listed (or `*`) with a q-value above 0. API Gateway does
 * not compress, so the function does, from bytes compressed at build time.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const part of header.toLowerCase().split(',')) {
    const [coding = '', ...params] = part.split(';').map((piece) => piece.trim());
    const q = params.find((param) => param.startsWith('q='));
    const accepted = q === undefined || Number.parseFloat(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') star = accepted;
  }
  return star ?? false;
}

/** `If-None-Match`: `*`, or a list of ETags compared weakly (RFC 9110 §13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
