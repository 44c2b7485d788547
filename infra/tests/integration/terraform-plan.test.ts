// The whole path from declarations to a Terraform plan: synthesize dev (fixture declarations and
// handlers), then terraform init (from the preinstalled provider when this machine has one,
// discovered at run time), validate and plan with the offline mock provider profile. Nothing
// reaches AWS. terraform must be on PATH: CI machines have it.
import { afterAll, describe, expect, it } from 'vitest';

import { synthesize } from '../../src/synth.js';
import { findTerraform, offlinePlan, type OfflinePlanResult } from '../../src/terraform/terraform.js';
import { fixtureConfig } from '../fixtures/config.js';
import { fixtureSystem } from '../fixtures/system.js';
import { temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('plan');
afterAll(() => work.remove());

/** What the dev stack of the two fixture functions creates, by Terraform type. */
const EXPECTED_CREATES = {
  // network: VPC, 2 private + 2 public subnets, one NAT gateway, S3 and DynamoDB endpoints
  aws_vpc: 1,
  aws_default_security_group: 1,
  aws_subnet: 4,
  aws_internet_gateway: 1,
  aws_eip: 1,
  aws_nat_gateway: 1,
  aws_route_table: 3,
  aws_route: 3,
  aws_route_table_association: 4,
  aws_vpc_endpoint: 2,
  // file system: key, file system, backups, a mount target per zone, 2 access points, policy
  aws_kms_key: 1,
  aws_kms_alias: 1,
  aws_efs_file_system: 1,
  aws_efs_backup_policy: 1,
  aws_efs_mount_target: 2,
  aws_efs_access_point: 2,
  aws_efs_file_system_policy: 1,
  aws_security_group: 3,
  aws_vpc_security_group_ingress_rule: 2,
  aws_vpc_security_group_egress_rule: 4,
  // functions: role with 2 policies, log group, function; ml-inference's alias and provisioned concurrency
  aws_iam_role: 2,
  aws_iam_role_policy: 4,
  aws_cloudwatch_log_group: 3,
  aws_lambda_function: 2,
  aws_lambda_alias: 1,
  aws_lambda_provisioned_concurrency_config: 1,
  // HTTP API: an integration and a permission per function, 4 routes, the $default stage
  aws_apigatewayv2_api: 1,
  aws_apigatewayv2_integration: 2,
  aws_apigatewayv2_route: 4,
  aws_apigatewayv2_stage: 1,
  aws_lambda_permission: 2,
  // monitoring: PercentIOLimit, ClientConnections, errors and throttles of each function
  aws_sns_topic: 1,
  aws_cloudwatch_metric_alarm: 6,
};

interface PlannedResource {
  address: string;
  values: Record<string, unknown>;
}

function plannedResource(plan: OfflinePlanResult, address: string): Record<string, unknown> {
  const resources = (plan.planJson as { planned_values: { root_module: { resources: PlannedResource[] } } }).planned_values.root_module
    .resources;
  const found = resources.find((resource) => resource.address === address);
  if (found === undefined) throw new Error(`${address} is not in the plan`);
  return found.values;
}

describe('terraform init, validate and plan of the synthesized dev stack, offline', () => {
  let plan: OfflinePlanResult;

  it('finds terraform on PATH (install it from https://developer.hashicorp.com/terraform/install if this fails)', () => {
    expect(findTerraform()).toMatch(/terraform(\.exe)?$/);
  });

  it('synthesizes, inits, validates and plans with no error and no AWS call', { timeout: 180_000 }, async () => {
    const result = await synthesize({ outdir: work.path, configs: [fixtureConfig()], system: fixtureSystem() });
    const stack = result.stacks[0];
    expect(stack?.id).toBe('lambda-efs-dev');
    plan = await offlinePlan(stack?.directory ?? '');
  });

  it('plans exactly the expected resources, by type', () => {
    expect(plan.createsByType).toEqual(Object.fromEntries(Object.entries(EXPECTED_CREATES).sort(([a], [b]) => a.localeCompare(b))));
    expect(plan.otherActions).toEqual([]);
  });

  it('plans the outputs', () => {
    expect(plan.outputs).toEqual(['access_point_arns', 'access_point_ids', 'alarm_topic_arn', 'api_url', 'file_system_id', 'function_names']);
  });

  it('plans the declared function settings (the post\'s 3 GB and 5 minutes for ml-inference)', () => {
    expect(plannedResource(plan, 'aws_lambda_function.functions_ml-inference_function')).toMatchObject({
      function_name: 'lambda-efs-dev-ml-inference',
      memory_size: 3008,
      timeout: 300,
      runtime: 'nodejs22.x',
      architectures: ['x86_64'],
      publish: true,
      file_system_config: [{ local_mount_path: '/mnt/inference' }],
    });
    expect(plannedResource(plan, 'aws_efs_file_system.efs_file-system')).toMatchObject({
      encrypted: true,
      throughput_mode: 'elastic',
      performance_mode: 'generalPurpose',
    });
  });
});
