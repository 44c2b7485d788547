// model:publish's and model:rollback's work, without the command line: build the release with
// ml-inference's own installer (the files model:install would write, checked by onnxruntime),
// pack it (C2), upload it, and have the provisioner install it on EFS.
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HeadObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { removeTree } from '@lambda-efs/efs-utils';
import { installModel, MODEL_NAME_PATTERN } from '@lambda-efs/ml-inference/install';
import { loadNativeLibraries } from '@lambda-efs/ml-inference/native';

import { packDirectoryToFile } from '../archive/pack.js';
import { VERSION_PATTERN, type ArtifactRef, type ProvisionResult } from '../core/request.js';
import { PublishError } from '../errors.js';
import { invokeProvisioner } from './invoke.js';
import { uploadFile } from './upload.js';

/** Where release archives go in the artifact bucket (the prefix the provisioner's role may read). */
export const RELEASES_PREFIX = 'releases/';

export interface PublishOptions {
  /** A directory with model.onnx (+ labels.txt, optional model.json), or an .onnx file. */
  readonly source: string;
  readonly name: string;
  readonly version: string;
  readonly labelsFile?: string;
  readonly configFile?: string;
  /** @default true */
  readonly activate?: boolean;
  /** Releases to keep on EFS. @default the provisioner's (3) */
  readonly keep?: number;
  readonly bucket: string;
  readonly functionName: string;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
  /** @default RELEASES_PREFIX */
  readonly prefix?: string;
  /** Upload progress (bytes done, total). */
  readonly progress?: (done: number, total: number) => void;
  /** One line of what is happening. */
  readonly log?: (line: string) => void;
  /** Runs after the upload, before the provisioner is invoked. */
  readonly afterUpload?: (artifact: ArtifactRef) => Promise<void>;
}

export interface PublishResult {
  readonly artifact: ArtifactRef;
  /** False when the same release was uploaded before (its object was reused). */
  readonly uploaded: boolean;
  readonly bytes: number;
  readonly result: ProvisionResult;
}

/**
 * Builds, packs, uploads and installs a model release.
 * @throws {PublishError} bad arguments, a version already published with other content, S3 or Lambda failures.
 * @throws the installer's errors (a model the function would refuse).
 */
export async function publishModel(options: PublishOptions): Promise<PublishResult> {
  const { name, version } = options;
  if (!MODEL_NAME_PATTERN.test(name))
    throw new PublishError(`--name "${name}" is invalid: use 1 to 64 letters, digits, ".", "-" or "_", starting with a letter or digit.`);
  if (!VERSION_PATTERN.test(version))
    throw new PublishError(
      `--version "${version}" is invalid: use 1 to 64 letters, digits, ".", "+", "-" or "_", starting with a letter or digit.`,
    );
  const log = options.log ?? (() => undefined);
  const scratch = await mkdtemp(join(tmpdir(), 'model-publish-'));
  try {
    // ml-inference's installer writes the release exactly as the function reads it, after
    // onnxruntime loaded the model (no optimized graph: this machine's CPU is not Lambda's).
    const { ort, versions } = loadNativeLibraries({ nodeModulesDir: undefined });
    const installed = await installModel({
      source: options.source,
      modelsDir: join(scratch, 'models'),
      name,
      version,
      activate: false,
      optimize: false,
      ort,
      ortVersion: versions.onnxruntime,
      ...(options.labelsFile === undefined ? {} : { labelsFile: options.labelsFile }),
      ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
    });
    // release.json carries the packing time; the content digest ignores it, so that publishing
    // the same model again is recognised.
    const contentSha256 = createHash('sha256')
      .update(
        Object.entries(installed.files)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([file, digest]) => `${file} ${digest.bytes} ${digest.sha256}\n`)
          .join(''),
      )
      .digest('hex');
    const archivePath = join(scratch, `${version}.tar.gz`);
    const packed = await packDirectoryToFile(installed.releaseDir, archivePath);
    log(`Packed ${name} ${version}: ${packed.entries} entries, ${packed.bytes} bytes, sha256 ${packed.sha256Hex}`);

    const key = `${options.prefix ?? RELEASES_PREFIX}models/${name}/${version}.tar.gz`;
    const existing = await headObject(options.s3, options.bucket, key);
    let artifact: ArtifactRef;
    let uploaded = false;
    if (
      existing !== undefined &&
      existing.metadata['content-sha256'] === contentSha256 &&
      /^[0-9a-f]{64}$/.test(existing.metadata['sha256'] ?? '')
    ) {
      artifact = {
        bucket: options.bucket,
        key,
        sha256: existing.metadata['sha256'] as string,
        ...(existing.versionId === undefined ? {} : { versionId: existing.versionId }),
      };
      log(`s3://${options.bucket}/${key} already holds this release: not uploading it again`);
    } else if (existing !== undefined) {
      throw new PublishError(
        `${name} ${version} was already published with other content (s3://${options.bucket}/${key}). Versions are immutable: publish under a new --version.`,
      );
    } else {
      const { versionId } = await uploadFile(options.s3, {
        bucket: options.bucket,
        key,
        file: archivePath,
        metadata: { sha256: packed.sha256Hex, 'content-sha256': contentSha256 },
        ...(options.progress === undefined ? {} : { progress: options.progress }),
      });
      artifact = { bucket: options.bucket, key, sha256: packed.sha256Hex, ...(versionId === undefined ? {} : { versionId }) };
      uploaded = true;
      log(`Uploaded s3://${options.bucket}/${key}${versionId === undefined ? '' : ` (version ${versionId})`}`);
    }
    await options.afterUpload?.(artifact);
    log(`Installing with ${options.functionName}…`);
    const result = await invokeProvisioner(options.lambda, options.functionName, {
      action: 'install',
      target: `models/${name}`,
      version,
      artifact,
      activate: options.activate ?? true,
      keep: options.keep ?? 3,
    });
    return { artifact, uploaded, bytes: packed.bytes, result };
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
}

export interface RollbackOptions {
  readonly name: string;
  /** @default the previously active release */
  readonly to?: string;
  readonly functionName: string;
  readonly lambda: LambdaClient;
}

/** Rolls the model back on EFS through the provisioner. */
export async function rollbackModel(options: RollbackOptions): Promise<ProvisionResult> {
  if (!MODEL_NAME_PATTERN.test(options.name))
    throw new PublishError(`--name "${options.name}" is invalid: use 1 to 64 letters, digits, ".", "-" or "_".`);
  if (options.to !== undefined && !VERSION_PATTERN.test(options.to)) throw new PublishError(`--to "${options.to}" is not a version.`);
  return invokeProvisioner(options.lambda, options.functionName, {
    action: 'rollback',
    target: `models/${options.name}`,
    ...(options.to === undefined ? {} : { to: options.to }),
  });
}

async function headObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ metadata: Record<string, string>; versionId: string | undefined } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { metadata: head.Metadata ?? {}, versionId: head.VersionId };
  } catch (error) {
    if (
      error instanceof S3ServiceException &&
      (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404)
    )
      return undefined;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new PublishError(
      `Cannot read s3://${bucket}/${key}: ${message}. Check the bucket (--bucket or the stack's outputs), the region and your credentials.`,
      { cause: error },
    );
  }
}
