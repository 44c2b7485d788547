// Builds the constructs a construct under test depends on, inside a Testing.synthScope scope.
import type { SystemDefinition } from '@lambda-efs/function-spec';
import type { Construct } from 'constructs';

import type { FunctionBundle } from '../../../src/bundling/bundle.js';
import type { InfraConfig } from '../../../src/config.js';
import type { ArtifactBucket } from '../../../src/constructs/artifacts.js';
import { FileSystem } from '../../../src/constructs/file-system.js';
import { Functions } from '../../../src/constructs/functions.js';

export const SUBNETS = [
  { availabilityZone: 'us-east-1a', subnetId: 'subnet-aaaaaaaa' },
  { availabilityZone: 'us-east-1b', subnetId: 'subnet-bbbbbbbb' },
];

/** A FileSystem and the Functions of `system` on it. */
export function buildFunctions(
  scope: Construct,
  config: InfraConfig,
  system: SystemDefinition,
  bundles: ReadonlyMap<string, FunctionBundle>,
  codeBucket?: ArtifactBucket,
): { fileSystem: FileSystem; functions: Functions } {
  const fileSystem = new FileSystem(scope, 'efs', {
    namePrefix: config.namePrefix,
    vpcId: 'vpc-12345678',
    subnets: SUBNETS,
    config: config.fileSystem,
    accessPoints: system.accessPoints,
  });
  const functions = new Functions(scope, 'functions', {
    namePrefix: config.namePrefix,
    functions: system.functions,
    bundles,
    config: config.functions,
    vpcId: 'vpc-12345678',
    subnets: SUBNETS,
    fileSystem,
    ...(codeBucket === undefined ? {} : { codeBucket }),
  });
  return { fileSystem, functions };
}
