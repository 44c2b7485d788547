import { GetObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';

import { BucketNotAllowedError, DownloadError, InvalidRequestError } from '../errors.js';
import type { ArtifactRef } from './request.js';

/** An artifact's bytes as they arrive from S3. */
export interface ArtifactStream {
  readonly body: AsyncIterable<Uint8Array>;
  /** Content-Length as S3 announced it. */
  readonly bytes: number | undefined;
}

/** Where artifacts may come from: the function's own bucket and prefix, never the caller's choice. */
export interface ArtifactPolicy {
  readonly bucket: string | undefined;
  /** @default '' */
  readonly prefix?: string;
}

/** `s3://bucket/key` (with `?versionId=` when pinned), for messages. */
export function describeArtifact(artifact: ArtifactRef): string {
  return `s3://${artifact.bucket}/${artifact.key}${artifact.versionId === undefined ? '' : `?versionId=${artifact.versionId}`}`;
}

/**
 * Checks the artifact against the policy.
 * @throws {BucketNotAllowedError} another bucket, or no bucket configured.
 * @throws {InvalidRequestError} a key outside the prefix.
 */
export function checkArtifactAllowed(artifact: ArtifactRef, policy: ArtifactPolicy): void {
  if (policy.bucket === undefined || artifact.bucket !== policy.bucket) throw new BucketNotAllowedError(artifact.bucket, policy.bucket);
  const prefix = policy.prefix ?? '';
  if (!artifact.key.startsWith(prefix)) {
    throw new InvalidRequestError(
      `Artifact keys must start with "${prefix}", and "${artifact.key}" does not. Upload it under that prefix (pnpm model:publish does).`,
    );
  }
}

/**
 * Starts the download of one object version.
 * @throws {DownloadError} saying what S3 answered and what to check.
 */
export async function openArtifact(s3: S3Client, artifact: ArtifactRef): Promise<ArtifactStream> {
  const where = describeArtifact(artifact);
  try {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: artifact.bucket,
        Key: artifact.key,
        ...(artifact.versionId === undefined ? {} : { VersionId: artifact.versionId }),
      }),
    );
    if (response.Body === undefined) throw new DownloadError(`S3 answered ${where} without a body. Upload the artifact again.`);
    return { body: response.Body as AsyncIterable<Uint8Array>, bytes: response.ContentLength };
  } catch (error) {
    if (error instanceof DownloadError) throw error;
    throw downloadError(where, error);
  }
}

/** A DownloadError for a failure while fetching `where`. */
export function downloadError(where: string, error: unknown): DownloadError {
  if (error instanceof S3ServiceException) {
    const hint =
      error.name === 'NoSuchKey' || error.name === 'NoSuchVersion' || error.name === 'NotFound'
        ? 'Upload it first (pnpm model:publish does), or fix the key and versionId.'
        : error.name === 'AccessDenied' || error.name === 'Forbidden'
          ? "Check that the function's role may read the artifact prefix and that the bucket policy allows it (TLS, the VPC endpoint)."
          : error.name === 'NoSuchBucket'
            ? 'Check ARTIFACT_BUCKET and the bucket name in the event.'
            : 'Try again; if it persists, check the bucket and the network path to S3.';
    return new DownloadError(`Cannot download ${where}: S3 answered ${error.name} (${error.message}). ${hint}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DownloadError(
    `Cannot download ${where}: ${message}. Check the network path to S3 (the VPC's S3 gateway endpoint, or AWS_ENDPOINT_URL_S3) and try again.`,
    { cause: error },
  );
}
