// A real S3 API server (s3rver) on 127.0.0.1:<free port>, and a real @aws-sdk/client-s3 client
// for it (path-style, as the provisioner is configured locally).
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
  fixPutObject(server);
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS });
  return {
    endpoint,
    client,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      return { bucket: BUCKET, key, sha256: createHash('sha256').update(body).digest('hex') };
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: {
    bucket: string;
    key: string;
    content: Buffer | AsyncIterable<Buffer>;
    metadata: unknown;
  }): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver 3.7.1 answers a PUT before its file is written (its putObject resolves on a hashing
 * transform's 'finish', not on the file stream's, and truncates the old file in place), so a GET
 * right after a PUT can read a short file. This replaces its putObject with the same steps done
 * in order: the whole body, a temporary file renamed into place, then the metadata.
 */
function fixPutObject(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  store.putObject = async (object) => {
    const parts: Buffer[] = [];
    if (Buffer.isBuffer(object.content)) parts.push(object.content);
    else for await (const chunk of object.content) parts.push(Buffer.from(chunk));
    const content = Buffer.concat(parts);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, content);
    await rename(temporary, path);
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}
