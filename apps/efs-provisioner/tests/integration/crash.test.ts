// The provisioner killed (SIGKILL) in the middle of an extraction: the previous release stays
// current and loadable, and the next run cleans the debris and completes the install.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { packDirectory } from '../../src/archive/index.js';
import { provision } from '../../src/core/provision.js';
import { parseRequest } from '../../src/core/request.js';
import { startMlInference } from '../helpers/ml-inference.js';
import { solidPng } from '../helpers/png.js';
import { writeRelease } from '../helpers/releases.js';
import { BUCKET, CREDENTIALS, startS3, type LocalS3 } from '../helpers/s3.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/provision.mjs', import.meta.url));
const BLOBS = 16;
const BLOB_BYTES = 4 * 1024 * 1024;

let s3: LocalS3;
let work: string;

beforeAll(async () => {
  s3 = await startS3();
  work = await mkdtemp(join(tmpdir(), 'crash-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

function runProvisioner(
  root: string,
  event: unknown,
): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> } {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(event)], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      PROVISION_ROOT: root,
      ARTIFACT_BUCKET: BUCKET,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      STALE_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout }));
  });
  return { child, done };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 120_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

it('leaves the previous release current and loadable when killed mid-extract, and the next run cleans up', async () => {
  const root = join(work, 'efs');
  const model = join(root, 'models', 'demo');
  const small = await packDirectory(await writeRelease(join(work, 'v1'), 'v1'));
  const v1 = await s3.put('releases/v1.tar.gz', small.archive);
  await provision(parseRequest({ action: 'install', target: 'models/demo', version: '1.0.0', artifact: v1 }), {
    root,
    s3: s3.client,
    policy: { bucket: BUCKET },
  });

  // A big release: incompressible blobs first (blobs/ sorts before the model files).
  const bigDir = await writeRelease(join(work, 'v2'), 'v2');
  await mkdir(join(bigDir, 'blobs'));
  for (let i = 0; i < BLOBS; i++) await writeFile(join(bigDir, 'blobs', `${String(i).padStart(2, '0')}.bin`), randomBytes(BLOB_BYTES));
  const big = await packDirectory(bigDir);
  const v2 = await s3.put('releases/v2.tar.gz', big.archive);
  const event = { action: 'install', target: 'models/demo', version: '2.0.0', artifact: v2 };

  const first = runProvisioner(root, event);
  // Kill it once the extraction has written its first blob.
  await until('the extraction to start', async () => {
    const staging = await readdir(join(model, '.staging')).catch(() => [] as string[]);
    for (const token of staging) {
      const blobs = await readdir(join(model, '.staging', token, 'blobs')).catch(() => [] as string[]);
      if (blobs.length > 0) return true;
    }
    return undefined;
  });
  first.child.kill('SIGKILL');
  const killed = await first.done;
  expect(killed.signal).toBe('SIGKILL');

  expect(await readlink(join(model, 'current'))).toBe('releases/1.0.0');
  expect(await readdir(join(model, 'releases'))).toEqual(['1.0.0']);
  // The dead run's directory, and its lock (a lease nobody renews any more).
  const debris = (await readdir(join(model, '.staging'))).filter((name) => !name.endsWith('.lock'));
  expect(debris.length).toBe(1);
  expect((await readdir(join(model, '.staging'))).sort()).toEqual([...debris, `${debris[0] ?? ''}.lock`].sort());
  // Partial: the kill came before the model files (they follow the blobs).
  expect(await readdir(join(model, '.staging', debris[0] ?? ''))).not.toContain('model.onnx');

  const ml = startMlInference(join(root, 'models'), 'demo');
  try {
    expect((await ml.classify(solidPng([230, 20, 20]))).body['bird_class']).toBe('red-v1');

    // The next run sweeps the dead run's staging (its lease goes stale) and installs.
    const second = runProvisioner(root, event);
    const finished = await second.done;
    expect(finished.stdout).toMatch(/^RESULT /);
    const result = JSON.parse(finished.stdout.slice('RESULT '.length)) as { message: string };
    expect(result.message).toBe('installed and activated models/demo 2.0.0 (was 1.0.0)');
    expect(await readdir(join(model, '.staging'))).toEqual([]);
    expect(await readlink(join(model, 'current'))).toBe('releases/2.0.0');
    expect((await ml.classify(solidPng([230, 20, 20]))).body['bird_class']).toBe('red-v2');
  } finally {
    await ml.close();
  }
}, 300_000);
