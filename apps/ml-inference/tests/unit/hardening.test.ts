import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createHandler, type Handler } from '../../src/handler.js';
import { errorOf, getEvent, postEvent } from '../helpers/events.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';
import { RED, sharp, solidJpeg } from '../helpers/images.js';
import { installDemo, tempDir, testConfig } from '../helpers/models.js';

let modelsDir: string;
let cleanupModels: () => Promise<void>;
let server: ImageServer;
const handlers: Handler[] = [];
let logs: Record<string, unknown>[] = [];

function handler(env: Record<string, string> = {}): Handler {
  const created = createHandler({
    config: testConfig(modelsDir, { IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'true', ...env }),
    log: (entry) => logs.push(entry),
  });
  handlers.push(created);
  return created;
}

/** A noisy JPEG: its entropy-coded data fills most of the file, so cutting it loses pixels. */
async function noisyJpeg(width = 320, height = 240): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + (i >> 5)) % 256;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A small JPEG whose frame header declares `width` × `height`. */
async function forgedJpeg(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .jpeg()
      .toBuffer(),
  );
  for (let i = 2; i < jpeg.length - 8; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc0) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      return jpeg;
    }
  }
  throw new Error('no SOF0 marker');
}

beforeAll(async () => {
  ({ dir: modelsDir, cleanup: cleanupModels } = await tempDir('ml-hardening-'));
  await installDemo(modelsDir, '1');
  server = await startImageServer();
  server.file('/red.jpg', await solidJpeg(RED), 'image/jpeg');
});

afterEach(() => {
  logs = [];
});

afterAll(async () => {
  await Promise.all(handlers.map((h) => h.close()));
  await server.close();
  await cleanupModels();
});

describe('truncated and forged images', () => {
  it('refuses a JPEG cut short with an end marker appended (422), instead of classifying a grey fill', async () => {
    const jpeg = await noisyJpeg();
    const cut = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length / 2)), Buffer.from([0xff, 0xd9])]);
    const result = await handler()(postEvent(cut));
    expect(result.statusCode).toBe(422);
    expect(errorOf(result)).toMatchObject({
      code: 'EIMAGE',
      message: expect.stringMatching(/^The JPEG image could not be decoded .*truncated or corrupt\. Send the complete file\./) as unknown,
    });
  });

  it('refuses a tiny JPEG declaring 60000×600 pixels before decoding it (422)', async () => {
    const forged = await forgedJpeg(60_000, 600);
    expect(forged.length).toBeLessThan(1_000);
    const result = await handler()(postEvent(forged));
    expect(result.statusCode).toBe(422);
    expect(errorOf(result).message).toMatch(/declares 60000×600 pixels but holds only \d+ bytes/);
    // Refused from the header: no decode time was spent.
    expect(logs.at(-1)).not.toHaveProperty('decodeMs');
  });

  it('still classifies a complete JPEG', async () => {
    expect((await handler()(postEvent(await noisyJpeg()))).statusCode).toBe(200);
  });

  it('refuses over the configured pixel limit from the header (413)', async () => {
    const result = await handler({ IMAGE_MAX_PIXELS: '10000' })(postEvent(await solidJpeg(RED, 200, 100)));
    expect(result.statusCode).toBe(413);
    expect(errorOf(result).code).toBe('EPIXELS');
  });
});

describe('its own API', () => {
  const apiEvent = (url: string, host: string, extra: Record<string, string> = {}) => {
    const event = getEvent(url);
    return {
      ...event,
      headers: { ...event.headers, host, ...extra },
      requestContext: { ...event.requestContext, domainName: host, apiId: 'abc123' },
    };
  };

  it('refuses a URL of the API’s own host with 400, before fetching', async () => {
    const before = server.requests.length;
    const result = await handler()(apiEvent('http://api.example.test/ml-inference?url=x', 'api.example.test'));
    expect(result.statusCode).toBe(400);
    expect(errorOf(result)).toMatchObject({ code: 'ELOOP', message: expect.stringMatching(/leads to this API itself/) as unknown });
    expect(server.requests.length).toBe(before);
  });

  it('refuses API Gateway’s default endpoint of the same API, in any region', async () => {
    const result = await handler()(apiEvent('https://abc123.execute-api.eu-west-1.amazonaws.com/ml-inference?url=x', 'birds.example.com'));
    expect(errorOf(result).code).toBe('ELOOP');
  });

  it('refuses a redirect to its own API, checking every hop', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    server.route('/to-self', (_req, res) => {
      res.writeHead(302, { location: `${own}/ml-inference?url=${encodeURIComponent(`${own}/to-self`)}` }).end();
    });
    // The API is served on the image server's address here: its URLs are the API's own.
    const result = await handler()(apiEvent(`${server.origin}/to-self`, `127.0.0.1:${server.port}`));
    expect(result.statusCode).toBe(400);
    expect(errorOf(result).code).toBe('ELOOP');
  });

  it('answers 508 to a request made by a classifier’s own fetch (hop header), whatever the URL', async () => {
    const result = await handler()(apiEvent('https://example.com/x.jpg', 'api.example.test', { 'x-lambda-efs-hop': '1' }));
    expect(result.statusCode).toBe(508);
    expect(errorOf(result).code).toBe('ELOOP');
    expect(logs.at(-1)).toMatchObject({ level: 'WARN', status: 508 });
  });

  it('sends the hop header on its fetches', async () => {
    let seen: string | undefined;
    server.route('/hop.jpg', (req, res) => {
      seen = req.headers['x-lambda-efs-hop'] as string | undefined;
      res.writeHead(404).end();
    });
    await handler()(getEvent(`${server.origin}/hop.jpg`));
    expect(seen).toBe('1');
  });
});

describe('metadata services in local mode (private networks allowed)', () => {
  it.each([
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://100.100.100.200/latest/meta-data/',
    'http://0x646464c8/',
    'http://1684301000/',
    'http://0144.0144.0144.0310/',
    'http://[::ffff:6464:64c8]/',
    'http://metadata.google.internal/computeMetadata/v1/',
  ])('refuses %s with 403 without connecting', async (url) => {
    const result = await handler()(getEvent(url));
    expect(result.statusCode).toBe(403);
    expect(errorOf(result).message).toMatch(/it is a cloud metadata service address/);
  });

  it('says "an unspecified address", in English', async () => {
    const result = await handler({ IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'false' })(getEvent('http://0.0.0.0/x.jpg'));
    expect(errorOf(result).message).toMatch(/it is an unspecified address/);
  });
});
