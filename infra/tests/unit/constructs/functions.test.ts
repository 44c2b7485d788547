import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { afterAll, describe, expect, it } from 'vitest';

import { ArtifactBucket } from '../../../src/constructs/artifacts.js';
import { Functions } from '../../../src/constructs/functions.js';
import { FileSystem } from '../../../src/constructs/file-system.js';
import type { PolicyDocument } from '../../../src/iam.js';
import { fixtureConfig } from '../../fixtures/config.js';
import { fixtureSystem, messageWall, webPage } from '../../fixtures/system.js';
import { bundleFixtures, referenceTo, resources, synthScope, temporaryDirectory } from '../../helpers.js';
import { buildFunctions, SUBNETS } from './build.js';

const work = temporaryDirectory('functions');
afterAll(() => work.remove());
const system = fixtureSystem();
const bundles = await bundleFixtures(system, work.path);
const config = fixtureConfig();
const { text, json } = synthScope((scope) => buildFunctions(scope, config, system, bundles));

const lambdas = Object.values(resources(json, 'aws_lambda_function'));
const lambda = (name: string): Record<string, unknown> => {
  const found = lambdas.find((fn) => fn['function_name'] === `lambda-efs-dev-${name}`);
  if (found === undefined) throw new Error(`no function ${name}`);
  return found;
};
const rolePolicy = (fn: string, name: string): PolicyDocument => {
  const roleName = Object.entries(resources(json, 'aws_iam_role')).find(([, role]) => role['name'] === `lambda-efs-dev-${fn}`)?.[0];
  const policy = Object.values(resources(json, 'aws_iam_role_policy')).find(
    (candidate) => candidate['name'] === name && candidate['role'] === `\${aws_iam_role.${roleName ?? ''}.id}`,
  );
  if (policy === undefined) throw new Error(`no policy ${name} on ${fn}`);
  return JSON.parse(policy['policy'] as string) as PolicyDocument;
};

describe('Functions', () => {
  it('turns each declaration into a Lambda function with its runtime, architecture, handler, memory and timeout', () => {
    expect(text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'lambda-efs-dev-message-wall',
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      handler: 'handler.handler',
      memory_size: 256,
      timeout: 10,
      environment: { variables: { NODE_OPTIONS: '--enable-source-maps', MESSAGE_WALL_DIR: '/mnt/msg' } },
    });
    // The post's 3 GB for ml-inference, with a timeout inside the HTTP API's 30 s.
    expect(text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'lambda-efs-dev-ml-inference',
      architectures: ['x86_64'],
      handler: 'handler.classify',
      memory_size: 3008,
      timeout: 29,
    });
  });

  it('runs every function with source maps on, so stack traces point into the TypeScript', () => {
    for (const fn of lambdas) {
      expect((fn['environment'] as { variables: Record<string, string> }).variables['NODE_OPTIONS']).toBe('--enable-source-maps');
    }
  });

  it('reserves no concurrency by default, whatever the declaration says (fresh accounts cannot reserve any)', () => {
    expect(system.functions.find((fn) => fn.name === 'message-wall')?.reservedConcurrency).toBe(50);
    for (const fn of lambdas) expect(fn).not.toHaveProperty('reserved_concurrent_executions');
  });

  it("reserves what the environment's configuration says, per function", () => {
    const reserved = synthScope((scope) =>
      buildFunctions(
        scope,
        { ...config, functions: { ...config.functions, reservedConcurrency: { 'message-wall': 50, 'ml-inference': 10 } } },
        system,
        bundles,
      ),
    );
    expect(reserved.text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'lambda-efs-dev-message-wall',
      reserved_concurrent_executions: 50,
    });
    expect(reserved.text).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'lambda-efs-dev-ml-inference',
      reserved_concurrent_executions: 10,
    });
    const provisioner = Object.values(resources(reserved.json, 'aws_lambda_function')).find(
      (fn) => fn['function_name'] === 'lambda-efs-dev-efs-provisioner',
    );
    expect(provisioner).not.toHaveProperty('reserved_concurrent_executions');
  });

  it('lets only ml-inference out on plain HTTP too, where it fetches http:// image URLs', () => {
    const http = Object.entries(resources(json, 'aws_vpc_security_group_egress_rule')).filter(([, rule]) => rule['from_port'] === 80);
    expect(http.map(([address]) => address)).toEqual([expect.stringMatching(/^functions_ml-inference_http-out/)]);
    expect(http[0]?.[1]).toMatchObject({ cidr_ipv4: '0.0.0.0/0', ip_protocol: 'tcp', to_port: 80 });
  });

  it('uploads a package over 50 MB zipped to the artifact bucket and deploys it from there', () => {
    const wall = bundles.get('message-wall');
    if (wall === undefined) throw new Error('no message-wall bundle');
    const large = new Map(bundles);
    large.set('message-wall', { ...wall, uploadViaS3: true });
    const { json: viaS3 } = synthScope((scope) => {
      const bucket = new ArtifactBucket(scope, 'artifacts', { namePrefix: 'lambda-efs-dev', config: config.artifacts });
      buildFunctions(scope, config, system, large, bucket);
    });
    const fn = Object.values(resources(viaS3, 'aws_lambda_function')).find(
      (candidate) => candidate['function_name'] === 'lambda-efs-dev-message-wall',
    );
    expect(fn).not.toHaveProperty('filename');
    expect(fn).toMatchObject({
      s3_bucket: expect.stringMatching(/^\$\{aws_s3_object\.[^.]+\.bucket\}$/),
      s3_key: expect.stringMatching(/^\$\{aws_s3_object\.[^.]+\.key\}$/),
      s3_object_version: expect.stringMatching(/^\$\{aws_s3_object\.[^.]+\.version_id\}$/),
      source_code_hash: wall.sha256Base64,
    });
    expect(Object.values(resources(viaS3, 'aws_s3_object'))).toEqual([
      expect.objectContaining({
        key: `functions/message-wall/${wall.sha256Hex}.zip`,
        checksum_algorithm: 'SHA256',
        content_type: 'application/zip',
      }),
    ]);
    // Without a bucket to upload to, it says why it cannot deploy the package.
    expect(() => synthScope((scope) => buildFunctions(scope, config, system, large))).toThrow(/over Lambda's 50 MB direct upload/);
  });

  it('deploys the zipped bundle with its hash, so a code change redeploys', () => {
    for (const [name, bundle] of bundles) {
      expect(lambda(name)).toMatchObject({
        filename: expect.stringMatching(new RegExp(`^assets/[^/]+/${bundle.sha256Hex}/handler\\.zip$`)),
        source_code_hash: bundle.sha256Base64,
      });
    }
  });

  it('attaches every function to the private subnets with its own security group', () => {
    expect(lambda('message-wall')['vpc_config']).toEqual({
      subnet_ids: SUBNETS.map((subnet) => subnet.subnetId),
      security_group_ids: [expect.stringMatching(referenceTo('aws_security_group', 'id'))],
    });
    expect(lambda('message-wall')['vpc_config']).not.toEqual(lambda('ml-inference')['vpc_config']);
  });

  it('keeps a function without a file system out of the VPC: no security group, no VPC permissions', async () => {
    const withPage = fixtureSystem([messageWall, webPage]);
    const pageBundles = await bundleFixtures(withPage, work.path);
    const { json: pageJson } = synthScope((scope) => buildFunctions(scope, config, withPage, pageBundles));
    const page = Object.values(resources(pageJson, 'aws_lambda_function')).find((fn) => fn['function_name'] === 'lambda-efs-dev-web');
    expect(page).toBeDefined();
    expect(page?.['vpc_config']).toBeUndefined();
    expect(page?.['file_system_config']).toBeUndefined();
    const groups = Object.values(resources(pageJson, 'aws_security_group')).map((group) => group['name']);
    expect(groups).toContain('lambda-efs-dev-message-wall-function');
    expect(groups).not.toContain('lambda-efs-dev-web-function');
    const policies = Object.values(resources(pageJson, 'aws_iam_role_policy')).filter((policy) => String(policy['role']).includes('web'));
    const statements = policies.flatMap((policy) => (JSON.parse(String(policy['policy'])) as PolicyDocument).Statement);
    expect(statements.map((statement) => statement.Sid)).toEqual(['WriteOwnLogs']);
  });

  it("mounts each function's access point at its declared path", () => {
    expect(lambda('message-wall')['file_system_config']).toEqual({
      arn: expect.stringMatching(referenceTo('aws_efs_access_point', 'arn')),
      local_mount_path: '/mnt/msg',
    });
    expect(lambda('ml-inference')['file_system_config']).toMatchObject({ local_mount_path: '/mnt/inference' });
  });

  it('makes every function depend on every mount target and on the file system policy (provider issue #15053)', () => {
    const mountTargets = Object.keys(resources(json, 'aws_efs_mount_target')).map((name) => `aws_efs_mount_target.${name}`);
    const [policy] = Object.keys(resources(json, 'aws_efs_file_system_policy'));
    expect(mountTargets).toHaveLength(2);
    expect(lambdas).toHaveLength(3);
    for (const fn of lambdas) {
      expect(fn['depends_on']).toEqual(expect.arrayContaining([...mountTargets, `aws_efs_file_system_policy.${policy ?? ''}`]));
    }
  });

  it('publishes a version behind an alias with provisioned concurrency only when declared', () => {
    expect(lambda('message-wall')['publish']).toBe(false);
    expect(lambda('ml-inference')['publish']).toBe(true);
    expect(text).toHaveResourceWithProperties(LambdaAlias, {
      name: 'live',
      function_version: expect.stringMatching(referenceTo('aws_lambda_function', 'version')),
    });
    expect(text).toHaveResourceWithProperties(LambdaProvisionedConcurrencyConfig, {
      provisioned_concurrent_executions: 2,
      qualifier: expect.stringMatching(referenceTo('aws_lambda_alias', 'name')),
    });
    expect(Object.keys(resources(json, 'aws_lambda_alias'))).toHaveLength(1);
  });

  it('gives each function a log group with the configured retention', () => {
    expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: '/aws/lambda/lambda-efs-dev-message-wall',
      retention_in_days: 14,
    });
    expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: '/aws/lambda/lambda-efs-dev-ml-inference',
      retention_in_days: 14,
    });
  });

  it('lets each function out on HTTPS anywhere and on NFS to the mount targets only', () => {
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      cidr_ipv4: '0.0.0.0/0',
      ip_protocol: 'tcp',
      from_port: 443,
      to_port: 443,
    });
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      referenced_security_group_id: expect.stringMatching(referenceTo('aws_security_group', 'id')),
      from_port: 2049,
      to_port: 2049,
    });
    const rules = Object.values(resources(json, 'aws_vpc_security_group_egress_rule'));
    expect(rules.filter((rule) => rule['from_port'] === 2049).every((rule) => !('cidr_ipv4' in rule))).toBe(true);
  });

  it('grants each role the VPC actions and writing its own log group only', () => {
    const policy = rolePolicy('message-wall', 'vpc-and-logs');
    expect(policy.Statement[0]?.Action).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']));
    expect(policy.Statement[1]).toMatchObject({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}:\*$/),
    });
  });

  it('grants mount and write to a read-write function, mount only to a read-only one, each through its own access point', () => {
    const wall = rolePolicy('message-wall', 'efs-client').Statement[0];
    const ml = rolePolicy('ml-inference', 'efs-client').Statement[0];
    expect(wall).toMatchObject({
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: expect.stringMatching(referenceTo('aws_efs_file_system', 'arn')),
      Condition: {
        StringEquals: { 'elasticfilesystem:AccessPointArn': expect.stringMatching(referenceTo('aws_efs_access_point', 'arn')) },
      },
    });
    expect(ml?.Action).toEqual(['elasticfilesystem:ClientMount']);
    expect(wall?.Condition).not.toEqual(ml?.Condition);
  });

  it('lets a role be assumed by Lambda only', () => {
    for (const role of Object.values(resources(json, 'aws_iam_role'))) {
      expect(JSON.parse(role['assume_role_policy'] as string)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    }
  });

  it('refuses a function without a bundle', () => {
    expect(() =>
      synthScope((scope) => {
        const fileSystem = new FileSystem(scope, 'efs', {
          namePrefix: 'x',
          vpcId: 'vpc-12345678',
          subnets: SUBNETS,
          config: config.fileSystem,
          accessPoints: system.accessPoints,
        });
        new Functions(scope, 'functions', {
          namePrefix: 'x',
          functions: system.functions,
          bundles: new Map(),
          config: config.functions,
          vpcId: 'vpc-12345678',
          subnets: SUBNETS,
          fileSystem,
        });
      }),
    ).toThrow('Function "message-wall" has no bundle');
  });
});
