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
      ['access_point_arns', 'access_point_ids', 'alarm_topic_arn', 'api_url', 'file_system_id', 'function_names'].sort(),
    );
    expect(json.output['api_url']?.value).toBe('${aws_apigatewayv2_api.http_api.api_endpoint}');
    expect(json.output['access_point_ids']?.value).toEqual({
      message: '${aws_efs_access_point.efs_access-point-message.id}',
      ml: '${aws_efs_access_point.efs_access-point-ml.id}',
    });
    expect(json.output['function_names']?.value).toEqual({
      'message-wall': '${aws_lambda_function.functions_message-wall_function.function_name}',
      'ml-inference': '${aws_lambda_function.functions_ml-inference_function.function_name}',
    });
  });

  it('names Terraform resources after construct paths, without hashes', () => {
    expect(Object.keys(json.resource['aws_efs_file_system'] ?? {})).toEqual(['efs_file-system']);
    expect(Object.keys(json.resource['aws_efs_mount_target'] ?? {})).toEqual(['efs_mount-target-us-east-1a', 'efs_mount-target-us-east-1b']);
  });

  it('uses no data source', () => {
    expect(json.data).toBeUndefined();
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
        fileSystem: { ...base.fileSystem, throughput: { mode: 'bursting' }, workload: { storedGib: 10, coldStartGib: 2, coldStartsPerDay: 100 } },
      }),
    );
    expect(stack.warnings).toEqual([expect.stringContaining('EFS throughput mode bursting sustains 42 cold starts')]);
    const annotations = stack.node.metadata.filter((entry) => entry.type === '@cdktf/warn');
    expect(annotations.map((entry) => entry.data)).toEqual(stack.warnings);
  });

  it('refuses an invalid configuration before creating anything', () => {
    expect(() => synthStack(bundles, fixtureConfig({ region: 'nowhere' }))).toThrow(/Configuration of "dev" has 3 problems:\n {2}- region "nowhere" is invalid: give a region name/);
  });

  it('is a TerraformStack that an App can hold once per environment', () => {
    expect(synthStack(bundles).stack).toBeInstanceOf(LambdaEfsStack);
  });
});
