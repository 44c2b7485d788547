import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

import type { ArtifactsConfig } from '../config.js';
import type { PolicyDocument } from '../iam.js';

/** Where release archives live in the bucket; the provisioner's role may read only this prefix. */
export const RELEASES_PREFIX = 'releases/';
/** Where deployment packages too large for a direct upload live. */
export const FUNCTIONS_PREFIX = 'functions/';

export interface ArtifactBucketProps {
  readonly namePrefix: string;
  readonly config: ArtifactsConfig;
}

/** A file the deploy uploads: its path at synth and its digests. */
export interface ArtifactFile {
  /** Object key (under {@link RELEASES_PREFIX} or {@link FUNCTIONS_PREFIX}). */
  readonly key: string;
  /** Absolute path of the file at synth time (copied into the stack's assets). */
  readonly path: string;
  /** SHA-256 of the file, hex: the asset's hash (its folder name). */
  readonly sha256Hex: string;
  /** MD5 of the file, hex: `source_hash`, so a content change (and only that) uploads again. */
  readonly md5Hex: string;
  readonly contentType: string;
}

/**
 * The bucket's policy: refuse every request over plain HTTP (`aws:SecureTransport` false), for
 * every principal, on the bucket and its objects.
 */
function artifactBucketPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyWithoutTls',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

/**
 * The artifact bucket: release archives the provisioner installs on EFS (`releases/…`), and
 * deployment packages over Lambda's 50 MB direct-upload limit (`functions/…`). Versioned (the
 * provisioner names the exact version it verified), encrypted with S3-managed keys (SSE-S3: the
 * objects are build outputs, not secrets, and SSE-KMS would add a key policy every publisher and
 * the provisioner need grants in, plus a KMS request per object), public access blocked, object
 * ownership enforced (no ACLs), TLS only. Old versions expire after
 * `noncurrentVersionDays`; unfinished multipart uploads are aborted. The functions reach it
 * through the VPC's S3 gateway endpoint.
 */
export class ArtifactBucket extends Construct {
  readonly bucket: S3Bucket;
  /** Everything that must exist before objects are put and read (versioning, encryption, policy…). */
  readonly ready: readonly ITerraformDependable[];

  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    super(scope, id);
    const { config, namePrefix } = props;
    this.bucket = new S3Bucket(this, 'bucket', {
      // Bucket names are global: Terraform appends a unique suffix.
      bucketPrefix: `${namePrefix}-artifacts-`,
      forceDestroy: config.forceDestroy,
      tags: { Name: `${namePrefix}-artifacts` },
    });
    const bucket = this.bucket.id;
    const versioning = new S3BucketVersioningA(this, 'versioning', {
      bucket,
      versioningConfiguration: { status: 'Enabled' },
    });
    const encryption = new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access-block', {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const ownership = new S3BucketOwnershipControls(this, 'ownership', {
      bucket,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    const policy = new S3BucketPolicy(this, 'policy', {
      bucket,
      policy: JSON.stringify(artifactBucketPolicy(this.bucket.arn)),
      // S3 refuses a bucket policy while the public access block is being changed.
      dependsOn: [publicAccess],
    });
    const lifecycle = new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket,
      rule: [
        {
          id: 'expire-noncurrent-versions',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionExpiration: [{ noncurrentDays: config.noncurrentVersionDays }],
        },
        {
          id: 'abort-incomplete-multipart-uploads',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: config.abortIncompleteUploadDays }],
        },
      ],
      // Lifecycle rules on noncurrent versions need versioning first.
      dependsOn: [versioning],
    });
    this.ready = [versioning, encryption, publicAccess, ownership, policy, lifecycle];
  }

  /** The ARN of the objects under `prefix` (`releases/`): what a role may be granted. */
  objectsArn(prefix: string): string {
    return `${this.bucket.arn}/${prefix}*`;
  }

  /**
   * Uploads a file at deploy time: a Terraform asset (copied into the stack directory at synth)
   * and an `aws_s3_object` from it. `source_hash` is the file's MD5, so only a content change
   * uploads again; S3 checks the upload against its SHA-256.
   */
  upload(scope: Construct, id: string, file: ArtifactFile): S3Object {
    const asset = new TerraformAsset(scope, `${id}-asset`, { path: file.path, type: AssetType.FILE, assetHash: file.sha256Hex });
    return new S3Object(scope, id, {
      bucket: this.bucket.id,
      key: file.key,
      source: asset.path,
      sourceHash: file.md5Hex,
      checksumAlgorithm: 'SHA256',
      contentType: file.contentType,
      dependsOn: [...this.ready],
    });
  }
}
