import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { MULTIPART_THRESHOLD, uploadFile } from '../../src/cli/upload.js';
import { BUCKET, startS3, type LocalS3 } from '../helpers/s3.js';

let s3: LocalS3;
let work: string;

beforeAll(async () => {
  s3 = await startS3();
  work = await mkdtemp(join(tmpdir(), 'upload-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

it('uploads a big file in parts, reporting progress, with its metadata', async () => {
  const data = randomBytes(MULTIPART_THRESHOLD * 2 + 12345);
  const file = join(work, 'big.tar.gz');
  await writeFile(file, data);
  const seen: number[] = [];
  await uploadFile(s3.client, {
    bucket: BUCKET,
    key: 'releases/big.tar.gz',
    file,
    metadata: { sha256: 'abc' },
    progress: (done) => seen.push(done),
  });
  expect(seen).toEqual([0, MULTIPART_THRESHOLD, 2 * MULTIPART_THRESHOLD, data.length]);
  const object = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'releases/big.tar.gz' }));
  const body = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  expect((await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'releases/big.tar.gz' }))).Metadata).toEqual({ sha256: 'abc' });
});

it('says what S3 answered when the bucket does not exist', async () => {
  const file = join(work, 'small');
  await writeFile(file, 'x');
  await expect(uploadFile(s3.client, { bucket: 'no-such-bucket', key: 'k', file })).rejects.toThrow(
    /Uploading to s3:\/\/no-such-bucket\/k failed: NoSuchBucket/,
  );
});
