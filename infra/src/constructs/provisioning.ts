import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation/index.js';
import type { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

import type { ReleaseArtifact } from '../releases.js';
import { RELEASES_PREFIX, type ArtifactBucket } from './artifacts.js';
import type { DeployedFunction } from './functions.js';

export interface ProvisioningProps {
  readonly bucket: ArtifactBucket;
  /** The provisioning function (C1's event and result). */
  readonly provisioner: DeployedFunction;
  readonly releases: readonly ReleaseArtifact[];
  /**
   * What must exist before the provisioner can run: every mount target, the file system policy,
   * the route to S3 (gateway endpoint). The function itself is added.
   */
  readonly dependsOn: readonly ITerraformDependable[];
}

/** The provisioner's `install` event (C1) for a release uploaded as `object`. */
function installEvent(release: ReleaseArtifact, bucket: string, object: Pick<S3Object, 'key' | 'versionId'>): Record<string, unknown> {
  return {
    action: 'install',
    target: release.target,
    version: release.version,
    artifact: { bucket, key: object.key, versionId: object.versionId, sha256: release.sha256Hex },
    activate: true,
  };
}

/** The object key of a release archive: immutable, named by its content. */
function releaseKey(release: ReleaseArtifact): string {
  return `${RELEASES_PREFIX}${release.target}/${release.version}/${release.sha256Hex}.tar.gz`;
}

/** Construct id fragment of a release: `models-demo`. */
function releaseId(release: ReleaseArtifact): string {
  return release.target.replace(/[^A-Za-z0-9_-]/g, '-');
}

/**
 * Provisioning EFS during the deploy, without EC2: each release archive becomes an `aws_s3_object`
 * (from a Terraform asset), and an `aws_lambda_invocation` runs the provisioner's `install` with
 * the object's version id and the archive's SHA-256. Terraform invokes it again only when the
 * archive (so its hash, key and version id) changes. When the provisioner fails (bad archive,
 * EFS unreachable), the invocation returns a function error and the apply fails with the
 * provisioner's message; nothing active on EFS changes.
 */
export class Provisioning extends Construct {
  /** By release target (`models/demo`). */
  readonly invocations: ReadonlyMap<string, LambdaInvocation>;
  readonly objects: ReadonlyMap<string, S3Object>;

  constructor(scope: Construct, id: string, props: ProvisioningProps) {
    super(scope, id);
    const invocations = new Map<string, LambdaInvocation>();
    const objects = new Map<string, S3Object>();
    for (const release of props.releases) {
      const name = releaseId(release);
      const object = props.bucket.upload(this, `${name}-archive`, {
        key: releaseKey(release),
        path: release.archivePath,
        sha256Hex: release.sha256Hex,
        md5Hex: release.md5Hex,
        contentType: 'application/gzip',
      });
      const invocation = new LambdaInvocation(this, `${name}-install`, {
        functionName: props.provisioner.lambda.functionName,
        input: JSON.stringify(installEvent(release, props.bucket.bucket.id, object)),
        // A new archive re-runs the install (the input changes too; this says why).
        triggers: { archive_sha256: release.sha256Hex },
        dependsOn: [props.provisioner.lambda, object, ...props.dependsOn],
      });
      invocations.set(release.target, invocation);
      objects.set(release.target, object);
    }
    this.invocations = invocations;
    this.objects = objects;
  }
}
