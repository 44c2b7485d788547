// The handler over the site as built (dist/site-assets.js): headers, caching, compression, 304,
// HEAD, 404 and the other refusals, through payload 2.0 events like API Gateway's.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

import type { LogEntry } from '@lambda-efs/lambda-http';
import { describe, expect, it } from 'vitest';

import { createHandler, handler as builtHandler, type WebResult } from '../../src/handler.js';
import { acceptsGzip, ASSET_CACHE_CONTROL, CONTENT_SECURITY_POLICY, PAGE_CACHE_CONTROL } from '../../src/site.js';
import { assets, page } from '../../src/site-assets.js';

interface TestEvent {
  routeKey: string;
  rawPath: string;
  headers: Record<string, string>;
  pathParameters?: Record<string, string>;
  requestContext: { http: { method: string; path: string } };
}

function loadEvent(name: 'get-page' | 'get-asset'): TestEvent {
  return JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8')) as TestEvent;
}

function pageEvent(edit: (event: TestEvent) => void = () => undefined): TestEvent {
  const event = structuredClone(loadEvent('get-page'));
  edit(event);
  return event;
}

function assetEvent(name: string, edit: (event: TestEvent) => void = () => undefined): TestEvent {
  const event = structuredClone(loadEvent('get-asset'));
  event.pathParameters = { proxy: name };
  event.rawPath = `/assets/${name}`;
  event.requestContext.http.path = event.rawPath;
  edit(event);
  return event;
}

function withMethod(method: string): (event: TestEvent) => void {
  return (event) => {
    event.requestContext.http.method = method;
    event.routeKey = event.routeKey.replace(/^GET/, method);
  };
}

const logs: LogEntry[] = [];
const handler = createHandler({ log: (entry) => logs.push(entry) });

const scriptName = Object.keys(assets).find((name) => name.endsWith('.js')) ?? '';
const styleName = Object.keys(assets).find((name) => name.endsWith('.css')) ?? '';

/** The body as text, gunzipped when the answer says it is gzip. */
function text(result: WebResult): string {
  if (!result.isBase64Encoded) return result.body;
  const bytes = Buffer.from(result.body, 'base64');
  return result.headers['content-encoding'] === 'gzip' ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
}

describe('the web handler', () => {
  it('serves the page gzip-compressed with the CSP, nosniff, no-cache and an ETag', async () => {
    const result = await handler(pageEvent());
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-encoding': 'gzip',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': PAGE_CACHE_CONTROL,
      vary: 'accept-encoding',
      etag: `"${page.sha256.slice(0, 16)}-gz"`,
    });
    expect(text(result)).toBe(page.text);
    expect(logs.at(-1)).toMatchObject({
      level: 'INFO',
      message: 'request served',
      method: 'GET',
      path: '/',
      status: 200,
      gzip: true,
      responseBytes: page.gzipBytes,
    });
  });

  it('serves the page as plain text to a client that does not accept gzip', async () => {
    for (const acceptEncoding of [undefined, 'identity', 'br', 'gzip;q=0', 'br, *;q=0']) {
      const result = await handler(
        pageEvent((event) => {
          if (acceptEncoding === undefined) delete event.headers['accept-encoding'];
          else event.headers['accept-encoding'] = acceptEncoding;
        }),
      );
      expect(result.isBase64Encoded, String(acceptEncoding)).toBe(false);
      expect(result.headers['content-encoding']).toBeUndefined();
      expect(result.body).toBe(page.text);
      expect(result.headers['etag']).toBe(`"${page.sha256.slice(0, 16)}"`);
    }
  });

  it('names the hashed script and stylesheet in the page, and serves them for a year, immutable', async () => {
    expect(Object.keys(assets).sort()).toEqual([scriptName, styleName].sort());
    expect(page.text).toContain(`<script type="module" src="assets/${scriptName}"></script>`);
    expect(page.text).toContain(`<link rel="stylesheet" href="assets/${styleName}">`);
    for (const [name, type] of [
      [scriptName, 'text/javascript; charset=utf-8'],
      [styleName, 'text/css; charset=utf-8'],
    ] as const) {
      const asset = assets[name];
      expect(name).toBe(`app.${asset?.sha256.slice(0, 8)}.${name.endsWith('.js') ? 'js' : 'css'}`);
      const result = await handler(assetEvent(name));
      expect(result.statusCode).toBe(200);
      expect(result.headers).toMatchObject({
        'content-type': type,
        'cache-control': ASSET_CACHE_CONTROL,
        'x-content-type-options': 'nosniff',
      });
      expect(text(result)).toBe(asset?.text);
    }
  });

  it('answers 304 with no body when If-None-Match names the current ETag (strong or weak)', async () => {
    const first = await handler(pageEvent());
    const etag = first.headers['etag'] ?? '';
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const result = await handler(pageEvent((event) => (event.headers['if-none-match'] = ifNoneMatch)));
      expect(result.statusCode, ifNoneMatch).toBe(304);
      expect(result.body).toBe('');
      expect(result.headers['etag']).toBe(etag);
      expect(result.headers['cache-control']).toBe(PAGE_CACHE_CONTROL);
    }
    const stale = await handler(pageEvent((event) => (event.headers['if-none-match'] = '"0123456789abcdef-gz"')));
    expect(stale.statusCode).toBe(200);
    // The plain text's ETag differs from the gzip one: a cache never gets one for the other.
    const plain = await handler(pageEvent((event) => (event.headers['if-none-match'] = etag.replace('-gz', ''))));
    expect(plain.statusCode).toBe(200);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await handler(assetEvent(scriptName));
    const head = await handler(assetEvent(scriptName, withMethod('HEAD')));
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers).toEqual(get.headers);
    const headPage = await handler(pageEvent(withMethod('HEAD')));
    expect(headPage.statusCode).toBe(200);
    expect(headPage.body).toBe('');
    const headMissing = await handler(assetEvent('app.00000000.js', withMethod('HEAD')));
    expect(headMissing.statusCode).toBe(404);
    expect(headMissing.body).toBe('');
  });

  it.each([
    ['an old hash', 'app.00000000.js'],
    ['a name of Object.prototype', 'constructor'],
    ['__proto__', '__proto__'],
    ['hasOwnProperty.js', 'hasOwnProperty.js'],
    ['a path out of the assets', '../handler.js'],
    ['a nested path', `x/${scriptName}`],
    ['an empty name', ''],
    ['the page by name', 'index.html'],
  ])('answers 404 for %s, with the security headers and no caching', async (_what, name) => {
    const result = await handler(assetEvent(name));
    expect(result.statusCode).toBe(404);
    expect(result.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
    expect(result.body).toMatch(
      /^No asset named ".*"\. Asset names carry a hash of their content and change with every deployment: reload the page \(\/\) to get the current ones\.$/,
    );
    expect(logs.at(-1)).toMatchObject({ level: 'WARN', status: 404, code: 'ENOTFOUND' });
  });

  it('answers 405 with Allow for another method, and 400 for an event that is not an HTTP API one', async () => {
    const post = await handler(pageEvent(withMethod('POST')));
    expect(post.statusCode).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect(post.body).toBe('Method POST is not supported here: the page and its assets answer GET and HEAD.');
    for (const event of [undefined, null, {}, { requestContext: {} }, 'GET /']) {
      const result = await handler(event);
      expect(result.statusCode).toBe(400);
      expect(result.body).toBe(
        'This function answers API Gateway HTTP API requests (payload format 2.0): call it through its HTTP endpoint, for example https://<api>/.',
      );
      expect(result.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('hides an unexpected failure behind the request id, and logs its cause', async () => {
    const broken = createHandler({
      site: { page: undefined as never, assets: {} },
      log: (entry) => logs.push(entry),
    });
    const result = await broken(pageEvent(), { awsRequestId: 'req-1' });
    expect(result.statusCode).toBe(500);
    expect(result.body).toBe('Internal error. Retry; if it keeps failing, report request id req-1.');
    expect(logs.at(-1)).toMatchObject({ level: 'ERROR', status: 500, code: 'EINTERNAL', error: { message: 'Unexpected failure' } });
    expect(result.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it('is what the module exports as its entry', async () => {
    expect((await builtHandler(pageEvent())).statusCode).toBe(200);
  });
});

describe('the Content-Security-Policy', () => {
  it('allows nothing inline and nothing from another origin', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; " +
        "form-action 'self'; frame-ancestors 'none'; object-src 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|https?:/);
  });

  it('needs nothing inline from the page: no inline script, no style attribute, no event handler attribute', () => {
    expect(page.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\sstyle=/);
    expect(page.text).not.toMatch(/<style/);
    expect(page.text).not.toMatch(/\son[a-z]+=/);
    // The script never builds HTML from strings either.
    const script = assets[scriptName]?.text ?? '';
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });
});

describe('the page weight', () => {
  it('is at most 60 KB gzipped: the page, its script and its stylesheet', () => {
    const total = page.gzipBytes + Object.values(assets).reduce((sum, asset) => sum + asset.gzipBytes, 0);
    expect(total).toBeLessThanOrEqual(60 * 1024);
    // The recorded sizes are the real ones.
    for (const asset of [page, ...Object.values(assets)]) {
      expect(Buffer.from(asset.gzipBase64, 'base64').length).toBe(asset.gzipBytes);
      expect(Buffer.byteLength(asset.text)).toBe(asset.bytes);
    }
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['GZIP', true],
    ['deflate, gzip;q=0.5', true],
    ['x-gzip', true],
    ['*', true],
    ['br, *;q=0.1', true],
    ['gzip;q=0', false],
    ['gzip;q=0.0, *', false],
    ['br', false],
    ['identity', false],
    ['', false],
  ])('%s → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
