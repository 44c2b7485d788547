// The Lambda adapter as Lambda runs it: configuration from the environment (the SDK reads
// AWS_ENDPOINT_URL_S3 itself), failures thrown with their class name and a message saying what
// to do.
import { mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { packDirectory } from '../../src/archive/index.js';
import { writeRelease } from '../helpers/releases.js';
import { BUCKET, CREDENTIALS, startS3, type LocalS3 } from '../helpers/s3.js';

let s3: LocalS3;
let work: string;
let handler: (event: unknown) => Promise<unknown>;

beforeAll(async () => {
  s3 = await startS3();
  work = await mkdtemp(join(tmpdir(), 'handler-'));
  Object.assign(process.env, {
    PROVISION_ROOT: join(work, 'efs'),
    ARTIFACT_BUCKET: BUCKET,
    ARTIFACT_PREFIX: 'releases/',
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  });
  ({ handler } = await import('../../src/handler.js'));
});

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

describe('handler', () => {
  it('installs from the S3 endpoint in AWS_ENDPOINT_URL_S3 and answers the result', async () => {
    const { archive } = await packDirectory(await writeRelease(join(work, 'src'), 'h'));
    const artifact = await s3.put('releases/h.tar.gz', archive);
    const result = await handler({ action: 'install', target: 'models/demo', version: '1.0.0', artifact });
    expect(result).toMatchObject({
      action: 'install',
      changed: true,
      active: '1.0.0',
      message: 'installed and activated models/demo 1.0.0 (nothing was active)',
    });
    expect(await readlink(join(work, 'efs', 'models', 'demo', 'current'))).toBe('releases/1.0.0');
  });

  it('throws a typed error for a malformed event', async () => {
    await expect(handler({ action: 'upgrade', target: 'models/demo' })).rejects.toMatchObject({
      name: 'InvalidRequestError',
      code: 'EREQUEST',
    });
  });

  it('throws when the artifact is outside the allowed prefix', async () => {
    await expect(
      handler({
        action: 'install',
        target: 'models/demo',
        version: '2.0.0',
        artifact: { bucket: BUCKET, key: 'elsewhere/x.tar.gz', sha256: 'a'.repeat(64) },
      }),
    ).rejects.toThrow(/must start with "releases\/"/);
  });
});
