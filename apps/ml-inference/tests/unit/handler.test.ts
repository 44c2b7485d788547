// The handler end to end on the demo model: API Gateway events in, JSON answers out. Images come
// as uploads or from a local server on 127.0.0.1 (private networks allowed, as the local runtime
// sets it); every refusal is checked with its status, code and message.
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { NativeLibraries } from '../../src/core/native.js';
import { createHandler, type Handler } from '../../src/handler.js';
import { bodyOf, errorOf, getEvent, loadEvent, postEvent } from '../helpers/events.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';
import { BLUE, GREEN, RED, animatedGif, pixelBomb, sharp, solid, solidJpeg, solidPng } from '../helpers/images.js';
import { installDemo, tempDir, testConfig } from '../helpers/models.js';

let modelsDir: string;
let cleanupModels: () => Promise<void>;
let server: ImageServer;
let handlers: Handler[];
let logs: Record<string, unknown>[];

function handler(env: Record<string, string> = {}, extra: { libraries?: () => NativeLibraries } = {}): Handler {
  const created = createHandler({
    config: testConfig(modelsDir, { IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'true', ...env }),
    log: (entry) => logs.push(entry),
    ...extra,
  });
  handlers.push(created);
  return created;
}

beforeAll(async () => {
  ({ dir: modelsDir, cleanup: cleanupModels } = await tempDir('ml-handler-'));
  await installDemo(modelsDir, '1');
  server = await startImageServer();
  server.file('/red.jpg', await solidJpeg(RED), 'image/jpeg');
  server.file('/green.png', await solidPng(GREEN), 'image/png');
  server.file('/blue.webp', await solid(64, 48, BLUE).webp().toBuffer(), 'image/webp');
  server.file('/mislabelled.jpg', await solidPng(BLUE), 'image/jpeg');
  server.file('/page.html', '<!doctype html><p>hello</p>', 'text/html');
  server.file('/empty.jpg', '', 'image/jpeg');
});

afterAll(async () => {
  await server.close();
  await cleanupModels();
});

beforeEach(() => {
  handlers = [];
  logs = [];
});

afterEach(async () => {
  for (const h of handlers) await h.close();
});

describe('classifying', () => {
  it('answers the post\'s shape for a red JPEG upload: bird_class "red", predictions, model', async () => {
    const result = await handler()(postEvent(await solidJpeg(RED)));
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(result.headers['x-model-version']).toBe('demo/1');
    const body = bodyOf(result) as { bird_class: string; predictions: { label: string; probability: number }[]; model: unknown };
    expect(body.bird_class).toBe('red');
    expect(body.model).toEqual({ name: 'demo', version: '1' });
    expect(body.predictions).toHaveLength(5);
    expect(body.predictions[0]?.label).toBe('red');
    expect(body.predictions[0]?.probability).toBeGreaterThan(0.98);
    const probabilities = body.predictions.map((p) => p.probability);
    expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
  });

  it('fetches ?url= from a locally served image', async () => {
    const result = await handler()(getEvent(`${server.origin}/red.jpg`));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)['bird_class']).toBe('red');
  });

  it.each([
    ['/green.png', 'green'],
    ['/blue.webp', 'blue'],
    ['/mislabelled.jpg', 'blue'],
  ])('classifies %s as %s (format judged by content)', async (path, label) => {
    const result = await handler()(getEvent(`${server.origin}${path}`));
    expect(bodyOf(result)['bird_class']).toBe(label);
  });

  it('uses the first frame of an animated GIF', async () => {
    expect(bodyOf(await handler()(postEvent(await animatedGif(), { contentType: 'image/gif' })))['bird_class']).toBe('red');
  });

  it.each([
    ['1', 1],
    ['3', 3],
    ['20', 8],
  ])('returns ?top=%s predictions (at most one per label)', async (top, count) => {
    const result = await handler()(getEvent(`${server.origin}/red.jpg`, { top }));
    expect((bodyOf(result)['predictions'] as unknown[]).length).toBe(count);
  });

  it('loads the model once and logs a cold then a warm request', async () => {
    const h = handler();
    await h(postEvent(await solidJpeg(RED)));
    await h(postEvent(await solidJpeg(GREEN)));
    const served = logs.filter((l) => l['message'] === 'request served');
    expect(served.map((l) => l['cold'])).toEqual([true, false]);
    expect(served[0]?.['modelLoad']).toMatchObject({ optimized: 'hit' });
    expect(served[1]?.['modelLoad']).toBeUndefined();
    expect(served[1]?.['label']).toBe('green');
  });

  it('prepares the model ahead of the first request', async () => {
    const h = handler();
    await h.prepare();
    expect(h.store.active?.version).toBe('1');
    expect(logs.find((l) => l['message'] === 'model ready')).toMatchObject({ version: '1', warmedUp: false });
  });

  it('warms the model up with a blank image when asked (provisioned environments)', async () => {
    const h = handler();
    await h.prepare({ warmUp: true });
    expect(logs.find((l) => l['message'] === 'model ready')).toMatchObject({ warmedUp: true });
  });

  it('gives up waiting for init after its budget, and the first request still answers', async () => {
    const h = handler();
    await h.prepare({ budgetMs: 0 });
    const result = await h(postEvent(await solidJpeg(RED)));
    expect(result.statusCode).toBe(200);
  });
});

describe('refusing bad requests', () => {
  const cases: [string, () => Promise<unknown>, number, string, string | RegExp, Record<string, string>?][] = [
    [
      'GET without url',
      async () => getEvent(undefined),
      400,
      'EREQUEST',
      /^The url parameter is missing\. Classify an image with GET \/ml-inference\?url=/,
    ],
    [
      'top=0',
      async () => getEvent('https://example.com/x.jpg', { top: '0' }),
      400,
      'EREQUEST',
      'top must be a whole number from 1 to 20 (how many predictions to return), got "0".',
    ],
    ['top=21', async () => getEvent('https://example.com/x.jpg', { top: '21' }), 400, 'EREQUEST', /from 1 to 20/],
    ['top=five', async () => getEvent('https://example.com/x.jpg', { top: 'five' }), 400, 'EREQUEST', /got "five"/],
    [
      'POST with ?url= too',
      async () => postEvent(await solidJpeg(), { query: { url: 'https://example.com/x.jpg' } }),
      400,
      'EREQUEST',
      /^Send the image either as a URL \(GET \?url=\) or as the POST body, not both\./,
    ],
    [
      'POST without a body',
      async () => postEvent(undefined),
      400,
      'EEMPTY',
      'The uploaded image is empty (0 bytes). Send a JPEG, PNG, WebP, GIF, AVIF or TIFF image.',
    ],
    ['POST of 0 bytes', async () => postEvent(Buffer.alloc(0)), 400, 'EEMPTY', /is empty \(0 bytes\)/],
    ['POST of invalid base64', async () => ({ ...postEvent(Buffer.from('x')), body: '!!!notbase64' }), 400, 'EBODY', /not valid base64/],
    [
      'POST of HTML as text',
      async () => postEvent(undefined, { contentType: 'text/html', text: '<!doctype html><p>hi</p>' }),
      415,
      'EMEDIATYPE',
      /^The uploaded image is not a JPEG, PNG, WebP, GIF, AVIF or TIFF image \(judged by its content/,
    ],
    [
      'POST of an SVG',
      async () => postEvent(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { contentType: 'image/svg+xml' }),
      415,
      'ESVG',
      'SVG images are not accepted: convert the image to PNG or JPEG and send that.',
    ],
    [
      'POST of a BMP',
      async () => postEvent(Buffer.from('BM6\x00\x00\x00\x00\x00', 'latin1')),
      415,
      'EMEDIATYPE',
      /is BMP, which is not accepted/,
    ],
    [
      'POST of a decompression bomb',
      async () => postEvent(await pixelBomb(3_000), { contentType: 'image/png' }),
      413,
      'EPIXELS',
      '3000×3000 pixels is more than the limit of 4000000 pixels. Scale the image down and send it again.',
    ],
    [
      'POST of a truncated JPEG',
      async () => postEvent((await solidJpeg()).subarray(0, 600)),
      422,
      'EIMAGE',
      /^The JPEG image could not be decoded \(.+\): it is truncated or corrupt\. Send the complete file\.$/,
    ],
    [
      'POST over the size cap',
      async () => postEvent(Buffer.alloc(300_000, 1)),
      413,
      'ETOOLARGE',
      'The uploaded image is larger than the limit of 262144 bytes. Send a smaller image (resize or recompress it).',
    ],
    ['GET of a file: URL', async () => getEvent('file:///etc/passwd'), 400, 'EURL', /^Only http and https URLs can be fetched, not file\./],
    ['GET of a URL that answers 404', async () => getEvent(`${server.origin}/nothing.jpg`), 422, 'EFETCH', /answered 404 Not Found/],
    [
      'GET of an HTML page',
      async () => getEvent(`${server.origin}/page.html`),
      415,
      'EMEDIATYPE',
      /^The image at http:\/\/127\.0\.0\.1:\d+\/page\.html is not a JPEG/,
    ],
    ['GET of an empty file', async () => getEvent(`${server.origin}/empty.jpg`), 400, 'EEMPTY', /is empty \(0 bytes\)/],
    [
      'PUT',
      async () => ({
        ...getEvent(undefined),
        requestContext: { ...loadEvent('get').requestContext, http: { method: 'PUT', path: '/ml-inference' } },
      }),
      405,
      'EMETHOD',
      /^Method PUT is not supported/,
      { allow: 'GET, POST' },
    ],
    [
      'an event that is not from API Gateway',
      async () => ({ Records: [] }),
      400,
      'ENOTHTTP',
      /^This function answers API Gateway HTTP API requests/,
    ],
  ];

  it.each(cases)('refuses %s with %i %s', async (_name, event, status, code, message, headers) => {
    const h = handler({ IMAGE_MAX_BYTES: '262144', IMAGE_MAX_PIXELS: '4000000' });
    const result = await h(await event());
    expect(result.statusCode).toBe(status);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    const error = errorOf(result);
    expect(error.code).toBe(code);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    if (headers !== undefined) expect(result.headers).toMatchObject(headers);
  });

  it('refuses loopback URLs with 403 when private networks are not allowed (AWS)', async () => {
    const before = server.requests.length;
    const result = await handler({ IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'false' })(getEvent(`${server.origin}/red.jpg`));
    expect(result.statusCode).toBe(403);
    expect(errorOf(result).code).toBe('EADDRESS');
    expect(server.requests.length).toBe(before);
  });

  it('refuses a URL on a port the deployment does not let out with 400, before connecting (IMAGE_FETCH_ALLOWED_PORTS)', async () => {
    const before = server.requests.length;
    const result = await handler({ IMAGE_FETCH_ALLOWED_PORTS: '80,443' })(getEvent(`${server.origin}/red.jpg`));
    expect(result.statusCode).toBe(400);
    expect(errorOf(result)).toEqual({
      code: 'EURL',
      message: `The image URL uses port ${new URL(server.origin).port}, but this deployment can only reach ports 80 and 443. Use a URL on 80 or 443, or upload the image with POST.`,
    });
    expect(server.requests.length).toBe(before);
  });

  it('refuses hosts off the allow-list with 403', async () => {
    const result = await handler({ IMAGE_FETCH_ALLOWED_HOSTS: 'images.example.com' })(getEvent(`${server.origin}/red.jpg`));
    expect(result.statusCode).toBe(403);
    expect(errorOf(result)).toEqual({
      code: 'EHOSTNOTALLOWED',
      message: 'Images can only be fetched from the allowed hosts, and 127.0.0.1 is not one of them. Upload the image with POST instead.',
    });
  });

  it('accepts SVG when IMAGE_ALLOW_SVG is set', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#00f"/></svg>',
    );
    const result = await handler({ IMAGE_ALLOW_SVG: 'true' })(postEvent(svg, { contentType: 'image/svg+xml' }));
    expect(bodyOf(result)['bird_class']).toBe('blue');
  });
});

describe('model problems', () => {
  it('answers 503 with how to install when no model is installed', async () => {
    const { dir, cleanup } = await tempDir('ml-empty-');
    try {
      const h = createHandler({ config: testConfig(dir), log: (e) => logs.push(e) });
      handlers.push(h);
      const result = await h(postEvent(await solidJpeg()));
      expect(result.statusCode).toBe(503);
      expect(result.headers['retry-after']).toBe('30');
      const error = errorOf(result);
      expect(error.code).toBe('ENOMODEL');
      expect(error.message).toMatch(
        /^No model "demo" is installed: MODEL_DIR\/demo\/current does not exist\. Install one with: pnpm model:install/,
      );
    } finally {
      await cleanup();
    }
  });

  it('answers 503 naming the missing native library', async () => {
    const { dir, cleanup } = await tempDir('ml-native-');
    try {
      const { mkdir } = await import('node:fs/promises');
      const nodeModules = `${dir}/node_modules`;
      await mkdir(nodeModules);
      const h = handler({ NODE_MODULES_DIR: nodeModules });
      const result = await h(postEvent(await solidJpeg()));
      expect(result.statusCode).toBe(503);
      expect(errorOf(result).code).toBe('ENATIVE');
      expect(errorOf(result).message).toMatch(
        /^NODE_MODULES_DIR has no onnxruntime-node \(no onnxruntime-node\/package\.json in the native libraries directory\)\. The deploy installs this directory when the declaration says nativeModules: \{ from: 'file-system' \}/,
      );
    } finally {
      await cleanup();
    }
  });

  it('hides unexpected failures behind a 500 that names the request id', async () => {
    const h = handler(
      {},
      {
        libraries: () => {
          throw new TypeError('boom');
        },
      },
    );
    const event = postEvent(await solidJpeg());
    event.requestContext.requestId = 'req-123';
    const result = await h(event, { awsRequestId: 'aws-456' });
    expect(result.statusCode).toBe(500);
    expect(errorOf(result)).toEqual({
      code: 'EINTERNAL',
      message: 'Internal error: the image could not be classified. Retry with backoff; if it keeps failing, report request id aws-456.',
    });
    const logged = logs.find((l) => l['message'] === 'request refused');
    expect(logged).toMatchObject({ level: 'ERROR', requestId: 'aws-456', apiRequestId: 'req-123', code: 'EINTERNAL' });
    expect(JSON.stringify(logged)).toContain('boom');
  });
});

describe('robustness', () => {
  it('answers every event with a status and a JSON body, never a crash (fast-check)', async () => {
    const h = handler({ IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'false' });
    const png = await solidPng(RED, 8, 8);
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', '', 'get');
    const query = fc.dictionary(
      fc.constantFrom('url', 'top', 'x'),
      fc.oneof(fc.string(), fc.constantFrom('1', '20', 'http://10.0.0.1/', 'ftp://x', `${server.origin}/red.jpg`)),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
      fc.constant(png.toString('base64')),
      fc.integer({ min: 0, max: png.length }).map((n) => png.subarray(0, n).toString('base64')),
    );
    await fc.assert(
      fc.asyncProperty(method, query, body, fc.boolean(), async (m, q, b, base64) => {
        const event = postEvent(undefined);
        event.requestContext.http.method = m;
        event.queryStringParameters = q;
        if (b !== undefined) event.body = b;
        event.isBase64Encoded = base64;
        const result = await h(event);
        expect([200, 400, 403, 405, 413, 415, 422]).toContain(result.statusCode);
        const parsed = JSON.parse(result.body) as Record<string, unknown>;
        if (result.statusCode === 200) expect(typeof parsed['bird_class']).toBe('string');
        else expect(typeof (parsed['error'] as { code: unknown }).code).toBe('string');
      }),
      { numRuns: 150 },
    );
  });

  it('reads sharp from the same library the model uses', async () => {
    const h = handler();
    await h.prepare();
    expect(h.store.active?.libraries.sharp).toBe(sharp);
  });
});
