// The one declaration of the provisioning function. It is never routed on the public API: it is
// invoked by Terraform during `cdktf deploy` (aws_lambda_invocation) and by `pnpm model:publish` /
// `model:rollback` through Lambda's Invoke API. It mounts the ML access point read-write (the
// access point's owner, uid/gid 1001, is the owner ml-inference expects), where ml-inference only
// reads. Import it as `@lambda-efs/efs-provisioner/function`.
import { defineFunction } from '@lambda-efs/function-spec';
import { accessPoint as mlAccessPoint } from '@lambda-efs/ml-inference/function';

/** Where the provisioner mounts the ML access point. */
export const PROVISION_MOUNT_PATH = '/mnt/ml';

/** The efs-provisioner function. */
export const functionDefinition = defineFunction({
  name: 'efs-provisioner',
  description: 'Installs, activates, rolls back and prunes releases (models, native libraries) on EFS from verified S3 artifacts',
  // Next to the compiled declaration: dist/handler.js after tsc.
  entry: new URL('./handler.js', import.meta.url),
  // Pure JavaScript: Graviton is cheaper per GB-second.
  architecture: 'arm64',
  // Download, gunzip and NFS writes are I/O bound; 1 GB buys network bandwidth and a full vCPU.
  memoryMb: 1024,
  // Lambda's maximum: a release of a few GB streams from S3 to EFS within it.
  timeoutSeconds: 900,
  // No routes: never reachable from the HTTP API.
  routes: [],
  fileSystem: { accessPoint: mlAccessPoint, mountPath: PROVISION_MOUNT_PATH },
  environment: { PROVISION_ROOT: PROVISION_MOUNT_PATH },
  // No reserved concurrency: fresh accounts cannot reserve any. Concurrent runs are serialized by
  // the release set's lock on EFS.
});
