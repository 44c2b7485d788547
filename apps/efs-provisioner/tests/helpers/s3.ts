// A real S3 API server (s3rver) on 127.0.0.1:<free port>, and a real @aws-sdk/client-s3 client
// for it (path-style, as the provisioner is configured locally).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export const BUCKET = 'artifacts-test';
export const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Uploads `body` under `key`; returns the artifact reference for an install event. */
  put(key: string, body: Buffer): Promise<{ bucket: string; key: string; sha256: string }>;
  close(): Promise<void>;
}

export async function startS3(): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: BUCKET }] });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS });
  return {
    endpoint,
    client,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      const sha256 = createHash('sha256').update(body).digest('hex');
      await untilStored(client, key, sha256);
      return { bucket: BUCKET, key, sha256 };
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver 3.7.1 answers a PUT before its file write has finished (its putObject resolves on the
 * hashing transform's 'finish', not the file stream's): a GET right after can read a short file.
 * Wait until the object reads back whole.
 */
export async function untilStored(client: S3Client, key: string, sha256: string, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = await response.Body?.transformToByteArray();
    if (bytes !== undefined && createHash('sha256').update(bytes).digest('hex') === sha256) return;
    if (Date.now() > until) throw new Error(`s3rver did not store ${key} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
