import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { afterAll, describe, expect, it } from 'vitest';

import { LambdaEfsStack } from '../../src/stack.js';
import { fixtureConfig } from '../fixtures/config.js';
import { fixtureSystem } from '../fixtures/system.js';
import { bundleFixtures, synthStack, temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('stack');
afterAll(() => work.remove());
const bundles = await bundleFixtures(fixtureSystem(), work.path);

describe('LambdaEfsStack', () => {
  const { text, json } = synthStack(bundles);

  it('pins the AWS provider @cdktf/provider-aws 20.1.0 binds', () => {
    expect(json.terraform['required_providers']).toEqual({ aws: { source: 'aws', version: '5.100.0' } });
  });

  it('configures the offline mock provider profile: mock keys and every skip flag, for plan without AWS', () => {
    expect(text).toHaveProviderWithProperties(AwsProvider, {
      region: 'us-east-1',
      access_key: 'mock',
      secret_key: 'mock',
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: 'true',
      skip_region_validation: true,
      default_tags: [{ tags: { Project: 'lambda-efs', Environment: 'dev', ManagedBy: 'cdktf' } }],
    });
  });

  it('configures real credentials with an account guard for a deployment', () => {
    const real = synthStack(bundles, fixtureConfig({ provider: { kind: 'aws', allowedAccountIds: ['123456789012'] } }));
    const provider = real.json.provider['aws']?.[0] as Record<string, unknown>;
    expect(provider).toMatchObject({ region: 'us-east-1', allowed_account_ids: ['123456789012'] });
    expect(provider).not.toHaveProperty('access_key');
    expect(provider).not.toHaveProperty('skip_credentials_validation');
  });

  it('keeps state in a local file by default, so synth and plan work offline', () => {
    expect(json.terraform['backend']).toEqual({ local: { path: 'terraform.tfstate' } });
  });

  it('keeps state in S3 with native locking (use_lockfile) when configured', () => {
    const s3 = synthStack(
      bundles,
      fixtureConfig({ backend: { kind: 's3', bucket: 'acme-tf-state', key: 'lambda-efs/dev/terraform.tfstate', region: 'eu-west-1' } }),
    );
    expect(s3.json.terraform['backend']).toEqual({
      s3: { bucket: 'acme-tf-state', key: 'lambda-efs/dev/terraform.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
  });

  it('outputs the API URL, the file system id, the access points and the function names', () => {
    expect(Object.keys(json.output).sort()).toEqual(
      ['access_point_arns', 'access_point_ids', 'alarm_topic_arn', 'api_url', 'artifact_bucket', 'file_system_id', 'function_names'].sort(),
    );
    expect(json.output['api_url']?.value).toBe('${aws_apigatewayv2_api.http_api.api_endpoint}');
    expect(json.output['access_point_ids']?.value).toEqual({
      message: '${aws_efs_access_point.efs_access-point-message.id}',
      ml: '${aws_efs_access_point.efs_access-point-ml.id}',
    });
    expect(json.output['function_names']?.value).toEqual({
      'message-wall': '${aws_lambda_function.functions_message-wall_function.function_name}',
      'ml-inference': '${aws_lambda_function.functions_ml-inference_function.function_name}',
      'efs-provisioner': '${aws_lambda_function.functions_efs-provisioner_function.function_name}',
    });
    expect(json.output['artifact_bucket']?.value).toBe('${aws_s3_bucket.artifacts_bucket.id}');
  });

  it('names Terraform resources after construct paths, without hashes', () => {
    expect(Object.keys(json.resource['aws_efs_file_system'] ?? {})).toEqual(['efs_file-system']);
    expect(Object.keys(json.resource['aws_efs_mount_target'] ?? {})).toEqual(['efs_mount-target-1', 'efs_mount-target-2']);
  });

  it('moves the resources named after a zone (before zones were looked up) to their new addresses', () => {
    expect(json.moved).toEqual(
      expect.arrayContaining([
        { from: 'aws_subnet.network_private-us-east-1a', to: 'aws_subnet.network_private-1' },
        { from: 'aws_efs_mount_target.efs_mount-target-us-east-1b', to: 'aws_efs_mount_target.efs_mount-target-2' },
        { from: 'aws_nat_gateway.network_nat-us-east-1a', to: 'aws_nat_gateway.network_nat-1' },
      ]),
    );
  });

  it('uses no data source with the offline provider: zones are <region>a, <region>b', () => {
    expect(json.data).toBeUndefined();
    expect(Object.values(json.resource['aws_subnet'] ?? {}).map((subnet) => subnet['availability_zone'])).toEqual(
      expect.arrayContaining(['us-east-1a', 'us-east-1b']),
    );
  });

  it('looks the zones up in a real account (any region): available, no opt-in, use1-az3 left out, and enough of them', () => {
    const real = synthStack(bundles, fixtureConfig({ region: 'eu-west-3', provider: { kind: 'aws', allowedAccountIds: [] } }));
    expect(real.json.data?.['aws_availability_zones']).toEqual({
      network_zones: expect.objectContaining({
        state: 'available',
        exclude_zone_ids: ['use1-az3'],
        filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
      }) as unknown,
    });
    const subnets = real.json.resource['aws_subnet'] ?? {};
    expect(subnets['network_private-1']?.['availability_zone']).toBe('${element(data.aws_availability_zones.network_zones.names, 0)}');
    expect(subnets['network_private-2']?.['availability_zone']).toBe('${element(data.aws_availability_zones.network_zones.names, 1)}');
    expect(JSON.stringify(real.json.resource['aws_vpc'])).toContain('length(data.aws_availability_zones.network_zones.names) >= 2');
    expect(real.text).not.toContain('us-east-1');
  });

  it('records no machine paths in the synthesized JSON', () => {
    expect(text).not.toContain(work.path);
    expect(text).not.toContain(process.cwd());
  });

  it('has no warning when the throughput mode sustains the declared workload', () => {
    expect(synthStack(bundles).stack.warnings).toEqual([]);
  });

  it('warns, as a cdktf annotation too, when the throughput mode cannot sustain the declared cold starts', () => {
    const base = fixtureConfig();
    const { stack } = synthStack(
      bundles,
      fixtureConfig({
        fileSystem: {
          ...base.fileSystem,
          throughput: { mode: 'bursting' },
          workload: { storedGib: 10, coldStartGib: 2, coldStartsPerDay: 100 },
        },
      }),
    );
    expect(stack.warnings).toEqual([expect.stringContaining('EFS throughput mode bursting sustains 42 cold starts')]);
    const annotations = stack.node.metadata.filter((entry) => entry.type === '@cdktf/warn');
    expect(annotations.map((entry) => entry.data)).toEqual(stack.warnings);
  });

  it('refuses an invalid configuration before creating anything', () => {
    expect(() => synthStack(bundles, fixtureConfig({ region: 'nowhere' }))).toThrow(
      /Configuration of "dev": region "nowhere" is invalid: give a region name/,
    );
  });

  it('is a TerraformStack that an App can hold once per environment', () => {
    expect(synthStack(bundles).stack).toBeInstanceOf(LambdaEfsStack);
  });
});
