// The real system: the apps' declarations, imported from their packages' compiled `function`
// entry points. Adding a function to the deployment means adding it here.
import { functionDefinition as efsProvisioner } from '@lambda-efs/efs-provisioner/function';
import { functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
import { functionDefinition as mlInference } from '@lambda-efs/ml-inference/function';
import { functionDefinition as web } from '@lambda-efs/web/function';
import { defineSystem, type SystemDefinition } from '@lambda-efs/function-spec';

/**
 * Every function this repository deploys, validated together (`defineSystem`). The provisioner has
 * no routes: the deploy and the model commands invoke it; the HTTP API never does.
 */
export function appSystem(): SystemDefinition {
  return defineSystem([web, messageWall, mlInference, efsProvisioner]);
}
