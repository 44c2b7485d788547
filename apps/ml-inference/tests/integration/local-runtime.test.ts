// The post's kind of call, through the local runtime: the demo model installed as `pnpm start`
// installs it (model:demo), an image served on 127.0.0.1, and
//   GET /ml-inference?url=http://127.0.0.1:<port>/red.jpg  →  {"bird_class":"red", …}
// answered by a real execution environment (a child process running dist/handler.js, as the
// access point's user when the tests run as root).
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';

import { startLocalApi, type LocalApi } from '@lambda-efs/local-runtime';
import { DEMO_LABELS } from '@lambda-efs/onnx-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type * as FunctionModule from '../../src/function.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';
import { BLUE, GREEN, RED, solidJpeg, solidPng } from '../helpers/images.js';
import { installDemo, tempDir } from '../helpers/models.js';
import { runNode } from './helpers.js';

// The built declaration: its entry is dist/handler.js, which is what the runtime runs.
const declarations = (await import(new URL('../../dist/function.js', import.meta.url).href)) as typeof FunctionModule;

let efsRoot: string;
let cleanup: () => Promise<void>;
let images: ImageServer;
let api: LocalApi;
const runtimeLogs: string[] = [];

beforeAll(async () => {
  const temp = await tempDir('ml-runtime-');
  cleanup = temp.cleanup;
  // The environments run as the access point's user (1001) when the tests run as root.
  await chmod(temp.dir, 0o755);
  efsRoot = join(temp.dir, '.efs');
  const demo = await runNode(['dist/cli/model-demo.js', '--efs-root', efsRoot]);
  expect(demo.code, demo.stderr).toBe(0);
  images = await startImageServer();
  images.file('/red.jpg', await solidJpeg(RED), 'image/jpeg');
  images.file('/green.png', await solidPng(GREEN), 'image/png');
  api = await startLocalApi({
    functions: [declarations.localFunctionDefinition],
    accessPoints: [declarations.accessPoint],
    efsRoot,
    port: 0,
    watch: false,
    logSink: (line) => runtimeLogs.push(line),
  });
});

afterAll(async () => {
  await api?.close();
  await images?.close();
  await cleanup?.();
});

async function classify(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('ml-inference on the local runtime', () => {
  it('answers the post\'s call with the demo model: a red image is "red"', async () => {
    const { status, body } = await classify(`/ml-inference?url=${encodeURIComponent(`${images.origin}/red.jpg`)}`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body['bird_class']).toBe('red');
    expect(body['model']).toEqual({ name: 'demo', version: '1.0.0' });
    expect((body['predictions'] as unknown[]).length).toBe(5);
  });

  it('classifies an uploaded image (API Gateway base64-encodes it)', async () => {
    const upload = await solidJpeg(BLUE, 200, 150);
    const { status, body } = await classify('/ml-inference?top=2', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: upload,
    });
    expect(status).toBe(200);
    expect(body['bird_class']).toBe('blue');
    expect((body['predictions'] as unknown[]).length).toBe(2);
  });

  it('answers a refusal as JSON with its status', async () => {
    const { status, body } = await classify('/ml-inference?url=ftp%3A%2F%2Fexample.com%2Fx.jpg');
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: 'EURL',
        message: 'Only http and https URLs can be fetched, not ftp. Pass an http(s) URL, or upload the image with POST.',
      },
    });
  });

  it('answers one clear 400 to a URL that redirects to its own API, and no other request fails meanwhile', async () => {
    // The post's self-amplification: an image URL redirecting to /ml-inference?url=<itself>.
    images.route('/loop.jpg', (_req, res) => {
      const self = `${api.url}/ml-inference?url=${encodeURIComponent(`${images.origin}/loop.jpg`)}`;
      res.writeHead(302, { location: self }).end();
    });
    runtimeLogs.length = 0;
    const [loop, ...others] = await Promise.all([
      classify(`/ml-inference?url=${encodeURIComponent(`${images.origin}/loop.jpg`)}`),
      ...Array.from({ length: 4 }, () => classify(`/ml-inference?url=${encodeURIComponent(`${images.origin}/red.jpg`)}`)),
    ]);
    expect(loop.status).toBe(400);
    expect(loop.body).toMatchObject({ error: { code: 'ELOOP', message: expect.stringMatching(/leads to this API itself/) as unknown } });
    expect(others.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    // One invocation for the loop: the classifier never called itself.
    const handlerLines = runtimeLogs.filter((line) => line.includes('"message":"request'));
    expect(handlerLines.filter((line) => line.includes('"code":"ELOOP"'))).toHaveLength(1);
    expect(handlerLines).toHaveLength(5);
  });

  it('picks up a new release in the same warm environment', async () => {
    const pids = api.environmentPids('ml-inference');
    expect(pids.length).toBeGreaterThan(0);
    await installDemo(join(efsRoot, 'ml', 'models'), '2.0.0', { labels: DEMO_LABELS.map((label) => `${label} (v2)`) });
    const { status, body } = await classify(`/ml-inference?url=${encodeURIComponent(`${images.origin}/green.png`)}`);
    expect(status).toBe(200);
    expect(body['bird_class']).toBe('green (v2)');
    expect(body['model']).toEqual({ name: 'demo', version: '2.0.0' });
    expect(api.environmentPids('ml-inference').some((pid) => pids.includes(pid))).toBe(true);
  });
});

describe('the deployed declaration on the local runtime', () => {
  it('refuses to fetch from 127.0.0.1: only the local variant allows private networks', async () => {
    const deployed = await startLocalApi({
      functions: [declarations.functionDefinition],
      accessPoints: [declarations.accessPoint],
      efsRoot,
      port: 0,
      watch: false,
      logSink: () => {},
    });
    try {
      const response = await fetch(`${deployed.url}/ml-inference?url=${encodeURIComponent(`${images.origin}/red.jpg`)}`);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('EADDRESS');
    } finally {
      await deployed.close();
    }
  });
});
