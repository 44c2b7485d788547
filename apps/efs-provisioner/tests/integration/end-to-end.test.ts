// The whole provisioning path on one machine, with real parts: an S3 API server (s3rver), the
// local runtime serving ml-inference on its HTTP API and efs-provisioner on Lambda's Invoke API,
// and the model CLIs as real processes (@aws-sdk/client-s3 to upload, @aws-sdk/client-lambda to
// invoke). ml-inference answers with each release the provisioner activates.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineFunction } from '@lambda-efs/function-spec';
import { startLocalApi, type LocalApi } from '@lambda-efs/local-runtime';
import { accessPoint, localFunctionDefinition as mlInference } from '@lambda-efs/ml-inference/function';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type * as FunctionModule from '../../src/function.js';
import { solidPng } from '../helpers/png.js';
import { writeRelease } from '../helpers/releases.js';
import { BUCKET, CREDENTIALS, startS3, type LocalS3 } from '../helpers/s3.js';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
// The built declaration: its entry is dist/handler.js, which is what the runtime runs.
const { functionDefinition } = (await import(new URL('../../dist/function.js', import.meta.url).href)) as typeof FunctionModule;

let s3: LocalS3;
let api: LocalApi;
let work: string;
const runtimeLogs: string[] = [];

beforeAll(async () => {
  s3 = await startS3();
  work = await mkdtemp(join(tmpdir(), 'e2e-'));
  // The environments run as the access point's user (1001) when the tests run as root.
  await chmod(work, 0o755);
  const provisioner = defineFunction({
    ...functionDefinition,
    environment: {
      ...functionDefinition.environment,
      ARTIFACT_BUCKET: BUCKET,
      ARTIFACT_PREFIX: 'releases/',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
    },
  });
  api = await startLocalApi({
    functions: [mlInference, provisioner],
    accessPoints: [accessPoint],
    efsRoot: join(work, '.efs'),
    port: 0,
    invokePort: 0,
    watch: false,
    credentials: CREDENTIALS,
    region: 'us-east-1',
    logSink: (line) => runtimeLogs.push(line),
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

function cli(
  command: 'model-publish' | 'model-rollback',
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const flags = [
    '--bucket',
    BUCKET,
    '--function',
    'efs-provisioner',
    '--endpoint-url',
    api.invokeUrl ?? '',
    '--s3-endpoint-url',
    s3.endpoint,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PACKAGE_DIR, 'dist', 'cli', `${command}.js`), ...args, ...flags], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? '/tmp',
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function classify(): Promise<{ label: unknown; version: unknown }> {
  const response = await fetch(`${api.url}/ml-inference`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: solidPng([230, 20, 20]),
  });
  const body = (await response.json()) as { bird_class?: unknown; model?: { version?: unknown } };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return { label: body.bird_class, version: body.model?.version };
}

it('publishes, switches and rolls back a model that ml-inference then serves', async () => {
  const v1 = await writeRelease(join(work, 'src-v1'), 'v1');
  const v2 = await writeRelease(join(work, 'src-v2'), 'v2');
  const current = join(work, '.efs', 'ml', 'models', 'demo', 'current');

  // Nothing installed: ml-inference says how to install a model.
  const before = await fetch(`${api.url}/ml-inference`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: solidPng([230, 20, 20]),
  });
  expect(before.status).toBe(503);

  const first = await cli('model-publish', [v1, '--name', 'demo', '--version', '1.0.0']);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain('installed and activated models/demo 1.0.0 (nothing was active)');
  expect(first.stderr).toMatch(/Uploaded s3:\/\/artifacts-test\/releases\/models\/demo\/1\.0\.0\.tar\.gz/);
  expect(await classify()).toEqual({ label: 'red-v1', version: '1.0.0' });

  const second = await cli('model-publish', [join(v2, 'model.onnx'), '--name', 'demo', '--version', '2.0.0']);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toContain('installed and activated models/demo 2.0.0 (was 1.0.0)');
  expect(await readlink(current)).toBe('releases/2.0.0');
  // The same warm environment picks up the new `current` on its next request.
  expect(await classify()).toEqual({ label: 'red-v2', version: '2.0.0' });

  const back = await cli('model-rollback', ['--name', 'demo']);
  expect(back.code, back.stderr).toBe(0);
  expect(back.stdout).toContain('rolled back models/demo to 1.0.0 (was 2.0.0)');
  expect(await classify()).toEqual({ label: 'red-v1', version: '1.0.0' });

  // Publishing the same model again reuses the uploaded archive and just activates it.
  const again = await cli('model-publish', [v2, '--name', 'demo', '--version', '2.0.0']);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toContain('already holds this release: not uploading it again');
  expect(again.stdout).toContain('models/demo 2.0.0 was already installed; activated it (was 1.0.0)');
  expect(await classify()).toEqual({ label: 'red-v2', version: '2.0.0' });

  // Other content under a published version: refused before anything is uploaded.
  await writeFile(join(v2, 'labels.txt'), `${['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n')}\n`);
  const conflict = await cli('model-publish', [v2, '--name', 'demo', '--version', '2.0.0']);
  expect(conflict.code).toBe(1);
  expect(conflict.stderr).toContain('demo 2.0.0 was already published with other content');

  // A function error comes back through the Invoke API with the provisioner's message.
  const missing = await cli('model-rollback', ['--name', 'demo', '--to', '9.9.9']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(
    'The provisioner (efs-provisioner) failed: NotInstalledError: models/demo 9.9.9 is not installed (installed: 2.0.0, 1.0.0)',
  );
  expect(await classify()).toEqual({ label: 'red-v2', version: '2.0.0' });
}, 300_000);
