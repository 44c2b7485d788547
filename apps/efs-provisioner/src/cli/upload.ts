import { open, stat } from 'node:fs/promises';

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

import { PublishError } from '../errors.js';

/** Files above this size go up in parts (S3 needs parts of at least 5 MiB, except the last). */
export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
const PART_BYTES = 16 * 1024 * 1024;

export interface UploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly file: string;
  /** User metadata (x-amz-meta-*). */
  readonly metadata?: Record<string, string>;
  /** Called with bytes uploaded so far and the total. */
  readonly progress?: (done: number, total: number) => void;
}

/**
 * Uploads a file: one PutObject up to {@link MULTIPART_THRESHOLD}, a multipart upload above
 * (aborted on failure, so no orphan parts are billed). Bodies are buffers, so the SDK checksums
 * each request up front.
 * @returns the object's version id (versioned buckets).
 * @throws {PublishError} saying what S3 answered.
 */
export async function uploadFile(s3: S3Client, options: UploadOptions): Promise<{ versionId: string | undefined }> {
  const { bucket, key, file } = options;
  const total = (await stat(file)).size;
  const where = `s3://${bucket}/${key}`;
  options.progress?.(0, total);
  const handle = await open(file, 'r');
  try {
    if (total <= MULTIPART_THRESHOLD) {
      const body = Buffer.alloc(total);
      await handle.read(body, 0, total, 0);
      const response = await send(where, () =>
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/gzip', Metadata: options.metadata }),
        ),
      );
      options.progress?.(total, total);
      return { versionId: response.VersionId };
    }
    const created = await send(where, () =>
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/gzip', Metadata: options.metadata })),
    );
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new PublishError(`S3 started no multipart upload for ${where} (no UploadId).`);
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      let done = 0;
      for (let number = 1; done < total; number++) {
        const size = Math.min(PART_BYTES, total - done);
        const body = Buffer.alloc(size);
        await handle.read(body, 0, size, done);
        const part = await send(where, () =>
          s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: body })),
        );
        if (part.ETag === undefined) throw new PublishError(`S3 returned no ETag for part ${number} of ${where}.`);
        parts.push({ ETag: part.ETag, PartNumber: number });
        done += size;
        options.progress?.(done, total);
      }
      const completed = await send(where, () =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
      );
      return { versionId: completed.VersionId };
    } catch (error) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  } finally {
    await handle.close();
  }
}

async function send<T>(where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PublishError) throw error;
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new PublishError(
      `Uploading to ${where} failed: ${name}: ${message}. Check the bucket (--bucket or the stack's outputs), the region and your credentials.`,
      { cause: error },
    );
  }
}
