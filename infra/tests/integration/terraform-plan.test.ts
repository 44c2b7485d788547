// The whole path from declarations to a Terraform plan: synthesize dev (fixture declarations and
// handlers), then terraform init (from the preinstalled provider when this machine has one,
// discovered at run time), validate and plan with the offline mock provider profile. Nothing
// reaches AWS. terraform must be on PATH: CI machines have it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { synthesize } from '../../src/synth.js';
import { findProviderPluginDir, findTerraform, offlinePlan, runTerraform, type OfflinePlanResult } from '../../src/terraform/terraform.js';
import { fixtureConfig, fixtureProdConfig } from '../fixtures/config.js';
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
  aws_security_group: 4,
  aws_vpc_security_group_ingress_rule: 3,
  // HTTPS and NFS out for each function, HTTP out for ml-inference
  aws_vpc_security_group_egress_rule: 7,
  // functions: role with 2 policies (the provisioner 3: its bucket prefix), log group, function;
  // ml-inference's alias and provisioned concurrency
  aws_iam_role: 3,
  aws_iam_role_policy: 7,
  aws_cloudwatch_log_group: 4,
  aws_lambda_function: 3,
  aws_lambda_alias: 1,
  aws_lambda_provisioned_concurrency_config: 1,
  // artifact bucket: versioned, encrypted, private, owner-enforced, TLS-only, lifecycle
  aws_s3_bucket: 1,
  aws_s3_bucket_versioning: 1,
  aws_s3_bucket_server_side_encryption_configuration: 1,
  aws_s3_bucket_public_access_block: 1,
  aws_s3_bucket_ownership_controls: 1,
  aws_s3_bucket_policy: 1,
  aws_s3_bucket_lifecycle_configuration: 1,
  // provisioning: the demo model's archive and the provisioner's install
  aws_s3_object: 1,
  aws_lambda_invocation: 1,
  // HTTP API: an integration and a permission per routed function (not the provisioner), the 4
  // declared routes and the DELETE of each ANY route (open in dev: no invoke policy), the $default stage
  aws_apigatewayv2_api: 1,
  aws_apigatewayv2_integration: 2,
  aws_apigatewayv2_route: 6,
  aws_apigatewayv2_stage: 1,
  aws_lambda_permission: 2,
  // monitoring: PercentIOLimit, ClientConnections, API 5xx; duration, errors and throttles of each function
  aws_sns_topic: 1,
  aws_cloudwatch_metric_alarm: 12,
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

// A timeout only catches a hang: a synth and plan take 35-45 s in CI and 95 s beside two busy loops.
const PLAN_TIMEOUT_MS = 360_000;

describe('terraform init, validate and plan of the synthesized dev stack, offline', () => {
  let plan: OfflinePlanResult;

  it('finds terraform on PATH (install it from https://developer.hashicorp.com/terraform/install if this fails)', () => {
    expect(findTerraform()).toMatch(/terraform(\.exe)?$/);
  });

  it('synthesizes, inits, validates and plans with no error and no AWS call', { timeout: PLAN_TIMEOUT_MS }, async () => {
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
    expect(plan.outputs).toEqual([
      'access_point_arns',
      'access_point_ids',
      'alarm_topic_arn',
      'api_url',
      'artifact_bucket',
      'file_system_id',
      'function_names',
      'provisioned_releases',
    ]);
  });

  it("plans the declared function settings (the post's 3 GB for ml-inference, 29 s inside the API's 30 s)", () => {
    expect(plannedResource(plan, 'aws_lambda_function.functions_ml-inference_function')).toMatchObject({
      function_name: 'lambda-efs-dev-ml-inference',
      memory_size: 3008,
      timeout: 29,
      runtime: 'nodejs22.x',
      architectures: ['x86_64'],
      publish: true,
      file_system_config: [{ local_mount_path: '/mnt/inference' }],
    });
    // Unreserved (-1, the provider's default), whatever the declaration says: deploys on a fresh account.
    expect(plannedResource(plan, 'aws_lambda_function.functions_message-wall_function')['reserved_concurrent_executions']).toBe(-1);
    expect(plannedResource(plan, 'aws_efs_file_system.efs_file-system')).toMatchObject({
      encrypted: true,
      throughput_mode: 'elastic',
      performance_mode: 'generalPurpose',
    });
  });

  it('plans the subnets in <region>a and <region>b offline (a data source looks zones up for real)', () => {
    expect(plannedResource(plan, 'aws_subnet.network_private-1')['availability_zone']).toBe('us-east-1a');
    expect(plannedResource(plan, 'aws_subnet.network_private-2')['availability_zone']).toBe('us-east-1b');
  });

  it("plans the provisioner's install of the demo model, with the archive's hash as its trigger", () => {
    const invocation = plannedResource(plan, 'aws_lambda_invocation.provisioning_models-demo-install');
    expect(invocation['function_name']).toBe('lambda-efs-dev-efs-provisioner');
    expect(invocation['triggers']).toEqual({ archive_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    expect(plannedResource(plan, 'aws_s3_object.provisioning_models-demo-archive')).toMatchObject({
      key: expect.stringMatching(/^releases\/models\/demo\/1\.0\.0\/[0-9a-f]{64}\.tar\.gz$/) as unknown,
      checksum_algorithm: 'SHA256',
    });
  });
});

describe('terraform plan of the synthesized prod stack, offline: DELETE needs SigV4', () => {
  let plan: OfflinePlanResult;

  it('synthesizes and plans with no error', { timeout: PLAN_TIMEOUT_MS }, async () => {
    const result = await synthesize({ outdir: join(work.path, 'prod'), configs: [fixtureProdConfig()], system: fixtureSystem() });
    plan = await offlinePlan(result.stacks[0]?.directory ?? '');
  });

  it("plans the wall's DELETE routes with AWS_IAM and every other route open", () => {
    expect(plannedResource(plan, 'aws_apigatewayv2_route.http_route-DELETE-message-wall')).toMatchObject({
      route_key: 'DELETE /message-wall',
      authorization_type: 'AWS_IAM',
    });
    expect(plannedResource(plan, 'aws_apigatewayv2_route.http_route-DELETE-message-wall-wall')).toMatchObject({
      route_key: 'DELETE /message-wall/{wall}',
      authorization_type: 'AWS_IAM',
    });
    expect(plannedResource(plan, 'aws_apigatewayv2_route.http_route-ANY-message-wall')).toMatchObject({ authorization_type: 'NONE' });
    expect(plan.createsByType['aws_apigatewayv2_route']).toBe(6);
  });

  it('plans the managed policy that may call them, and outputs its ARN', () => {
    expect(plannedResource(plan, 'aws_iam_policy.http_protected-routes-policy')).toMatchObject({
      name: 'lambda-efs-prod-invoke-protected-routes',
    });
    expect(plan.createsByType['aws_iam_policy']).toBe(1);
    expect(plan.outputs).toContain('protected_routes_policy_arn');
  });
});

describe('terraform validate of the stack a real deploy applies (zones looked up, any region)', () => {
  it('validates the data source, its precondition and the moved blocks', { timeout: PLAN_TIMEOUT_MS }, async () => {
    const dir = join(work.path, 'real');
    const result = await synthesize({
      outdir: dir,
      configs: [fixtureConfig({ region: 'eu-central-1', provider: { kind: 'aws', allowedAccountIds: ['123456789012'] } })],
      system: fixtureSystem(),
    });
    const stackDir = result.stacks[0]?.directory ?? '';
    const json = readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8');
    expect(json).toContain('"aws_availability_zones"');
    expect(json).not.toContain('us-east-1a');
    const terraform = findTerraform();
    const pluginDir = findProviderPluginDir();
    await runTerraform(
      ['init', '-input=false', '-no-color', '-backend=false', ...(pluginDir === null ? [] : [`-plugin-dir=${pluginDir}`])],
      { cwd: stackDir, terraform },
    );
    expect(await runTerraform(['validate', '-no-color'], { cwd: stackDir, terraform })).toContain('Success! The configuration is valid.');
  });
});
