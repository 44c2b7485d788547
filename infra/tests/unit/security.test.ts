// Security properties, asserted over the synthesized Terraform JSON of whole stacks (dev and prod
// shapes): what must hold whatever a construct's details become.
import { afterAll, describe, expect, it } from 'vitest';

import { availabilityZones } from '../../src/config.js';
import type { PolicyDocument, PolicyStatement } from '../../src/iam.js';
import { fixtureConfig, fixtureProdConfig } from '../fixtures/config.js';
import { fixtureSystem } from '../fixtures/system.js';
import { bundleFixtures, resources, synthStack, temporaryDirectory, type SynthesizedJson } from '../helpers.js';

const work = temporaryDirectory('security');
afterAll(() => work.remove());
const bundles = await bundleFixtures(fixtureSystem(), work.path);

/** Every IAM policy document in the stack: role policies, trust policies, the file system policy, managed policies. */
function policyDocuments(json: SynthesizedJson): PolicyDocument[] {
  return [
    ...Object.values(resources(json, 'aws_iam_role_policy')).map((policy) => policy['policy']),
    ...Object.values(resources(json, 'aws_iam_policy')).map((policy) => policy['policy']),
    ...Object.values(resources(json, 'aws_iam_role')).map((role) => role['assume_role_policy']),
    ...Object.values(resources(json, 'aws_efs_file_system_policy')).map((policy) => policy['policy']),
    ...Object.values(resources(json, 'aws_s3_bucket_policy')).map((policy) => policy['policy']),
  ].map((text) => JSON.parse(text as string) as PolicyDocument);
}

const actionsOf = (statement: PolicyStatement): readonly string[] =>
  typeof statement.Action === 'string' ? [statement.Action] : statement.Action;

describe.each([
  ['dev', fixtureConfig()],
  ['prod', fixtureProdConfig()],
])('security of the %s stack', (name, config) => {
  const { json } = synthStack(bundles, config);
  const zones = availabilityZones(config.network, config.region, true) ?? [];

  /** The role policy statements of one function, by its declared name. */
  const roleStatements = (name: string): PolicyStatement[] =>
    Object.entries(resources(json, 'aws_iam_role_policy'))
      .filter(([address]) => address.startsWith(`functions_${name}_`))
      .flatMap(([, policy]) => (JSON.parse(policy['policy'] as string) as PolicyDocument).Statement);

  it('encrypts the file system with the customer-managed KMS key, which rotates', () => {
    const fileSystems = Object.values(resources(json, 'aws_efs_file_system'));
    const keys = Object.keys(resources(json, 'aws_kms_key'));
    expect(fileSystems).toHaveLength(1);
    expect(keys).toHaveLength(1);
    expect(fileSystems[0]).toMatchObject({ encrypted: true, kms_key_id: `\${aws_kms_key.${keys[0] ?? ''}.arn}` });
    expect(Object.values(resources(json, 'aws_kms_key'))[0]).toMatchObject({ enable_key_rotation: true });
  });

  it('denies every client action on the file system without TLS', () => {
    const [policy] = Object.values(resources(json, 'aws_efs_file_system_policy')).map(
      (resource) => JSON.parse(resource['policy'] as string) as PolicyDocument,
    );
    const deny = policy?.Statement.find((statement) => statement.Effect === 'Deny');
    expect(deny).toMatchObject({ Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    // Every action, not only mount and write.
    expect(actionsOf(deny!)).toEqual(['elasticfilesystem:*']);
  });

  it('lets ml-inference only read the ML access point, and the provisioner write it', () => {
    const [policy] = Object.values(resources(json, 'aws_efs_file_system_policy')).map(
      (resource) => JSON.parse(resource['policy'] as string) as PolicyDocument,
    );
    const grant = (sid: string): readonly string[] =>
      actionsOf(policy?.Statement.find((statement) => statement.Sid === sid) ?? { Effect: 'Allow', Action: [] });
    expect(grant('MountMlInferenceThroughItsAccessPoint')).toEqual(['elasticfilesystem:ClientMount']);
    expect(grant('MountEfsProvisionerThroughItsAccessPoint')).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
    const accessPointOf = (sid: string): unknown =>
      policy?.Statement.find((statement) => statement.Sid === sid)?.Condition?.['StringEquals']?.['elasticfilesystem:AccessPointArn'];
    expect(accessPointOf('MountEfsProvisionerThroughItsAccessPoint')).toBe(accessPointOf('MountMlInferenceThroughItsAccessPoint'));
  });

  it('lets the provisioner read only the release prefix of the artifact bucket, and nobody else read it at all', () => {
    const s3 = roleStatements('efs-provisioner').filter((statement) => actionsOf(statement).some((action) => action.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Sid: 'ReadReleaseArtifacts',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: expect.stringMatching(/^\$\{aws_s3_bucket\.artifacts_bucket\.arn\}\/releases\/\*$/) as unknown,
      },
    ]);
    for (const name of ['message-wall', 'ml-inference']) {
      expect(
        roleStatements(name)
          .flatMap(actionsOf)
          .filter((action) => action.startsWith('s3:')),
      ).toEqual([]);
    }
  });

  it('keeps the artifact bucket private, versioned, encrypted and TLS-only', () => {
    expect(Object.values(resources(json, 'aws_s3_bucket_public_access_block'))).toEqual([
      expect.objectContaining({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      }),
    ]);
    expect(Object.values(resources(json, 'aws_s3_bucket_versioning'))).toEqual([
      expect.objectContaining({ versioning_configuration: { status: 'Enabled' } }),
    ]);
    expect(Object.values(resources(json, 'aws_s3_bucket_server_side_encryption_configuration'))).toEqual([
      expect.objectContaining({ rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }] }),
    ]);
    expect(Object.values(resources(json, 'aws_s3_bucket_ownership_controls'))).toEqual([
      expect.objectContaining({ rule: { object_ownership: 'BucketOwnerEnforced' } }),
    ]);
    const [policy] = Object.values(resources(json, 'aws_s3_bucket_policy')).map(
      (resource) => JSON.parse(resource['policy'] as string) as PolicyDocument,
    );
    expect(policy?.Statement).toEqual([
      {
        Sid: 'DenyWithoutTls',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: ['${aws_s3_bucket.artifacts_bucket.arn}', '${aws_s3_bucket.artifacts_bucket.arn}/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it('lets each allowed principal mount only through an access point and a mount target', () => {
    const [policy] = Object.values(resources(json, 'aws_efs_file_system_policy')).map(
      (resource) => JSON.parse(resource['policy'] as string) as PolicyDocument,
    );
    const allows = policy?.Statement.filter((statement) => statement.Effect === 'Allow') ?? [];
    expect(allows).toHaveLength(3);
    for (const statement of allows) {
      expect(statement.Principal?.AWS).toMatch(/^\$\{aws_iam_role\.[^.]+\.arn\}$/);
      expect(statement.Condition?.['StringEquals']?.['elasticfilesystem:AccessPointArn']).toMatch(
        /^\$\{aws_efs_access_point\.[^.]+\.arn\}$/,
      );
      expect(statement.Condition?.['Bool']?.['elasticfilesystem:AccessedViaMountTarget']).toBe('true');
    }
  });

  it('opens TCP 2049 from security groups only, never from 0.0.0.0/0 or any CIDR', () => {
    const ingress = Object.values(resources(json, 'aws_vpc_security_group_ingress_rule'));
    const nfs = ingress.filter((rule) => (rule['from_port'] as number) <= 2049 && (rule['to_port'] as number) >= 2049);
    expect(nfs.length).toBeGreaterThan(0);
    for (const rule of ingress) {
      expect(rule).not.toHaveProperty('cidr_ipv4');
      expect(rule).not.toHaveProperty('cidr_ipv6');
      expect(rule['referenced_security_group_id']).toMatch(/^\$\{aws_security_group\.functions_[^.]+\.id\}$/);
    }
    // No inline rules anywhere either.
    for (const group of Object.values(resources(json, 'aws_security_group'))) {
      expect(group).not.toHaveProperty('ingress');
    }
  });

  it('grants no wildcard action, anywhere (only the TLS denials use one)', () => {
    for (const document of policyDocuments(json)) {
      for (const statement of document.Statement) {
        if (statement.Effect === 'Deny') continue;
        for (const action of actionsOf(statement)) {
          expect(action).not.toBe('*');
          expect(action).not.toContain('*');
        }
      }
    }
  });

  it('never mentions ClientRootAccess', () => {
    expect(JSON.stringify(json)).not.toContain('ClientRootAccess');
  });

  it('scopes every EFS grant of every role to the file system and one access point', () => {
    const efsStatements = policyDocuments(json)
      .flatMap((document) => document.Statement)
      .filter(
        (statement) => statement.Effect === 'Allow' && actionsOf(statement).some((action) => action.startsWith('elasticfilesystem:')),
      );
    expect(efsStatements.length).toBe(6); // three role policies, three file system policy grants
    for (const statement of efsStatements) {
      expect(statement.Resource).toMatch(/^\$\{aws_efs_file_system\.[^.]+\.arn\}$/);
      expect(statement.Condition?.['StringEquals']?.['elasticfilesystem:AccessPointArn']).toBeDefined();
    }
  });

  it('makes every function depend on every mount target', () => {
    const mountTargets = Object.keys(resources(json, 'aws_efs_mount_target')).map((name) => `aws_efs_mount_target.${name}`);
    const functions = Object.values(resources(json, 'aws_lambda_function'));
    expect(functions).toHaveLength(3);
    for (const fn of functions) expect(fn['depends_on']).toEqual(expect.arrayContaining(mountTargets));
  });

  it('puts exactly one mount target in each availability zone', () => {
    const subnets = resources(json, 'aws_subnet');
    const zonesOfMountTargets = Object.values(resources(json, 'aws_efs_mount_target')).map((target) => {
      const subnetName = /^\$\{aws_subnet\.([^.]+)\.id\}$/.exec(target['subnet_id'] as string)?.[1] ?? '';
      return subnets[subnetName]?.['availability_zone'];
    });
    expect(zonesOfMountTargets.sort()).toEqual([...zones].sort());
  });

  it('gives the provisioner no route, no integration and no invoke permission for API Gateway (or anyone): only IAM principals and the deploy invoke it', () => {
    const provisioner = /functions_efs-provisioner_/;
    const integrations = resources(json, 'aws_apigatewayv2_integration');
    const provisionerIntegrations = Object.keys(integrations).filter((address) => provisioner.test(JSON.stringify(integrations[address])));
    expect(provisionerIntegrations).toEqual([]);
    for (const route of Object.values(resources(json, 'aws_apigatewayv2_route'))) {
      expect(String(route['target'])).toMatch(
        /^integrations\/\$\{aws_apigatewayv2_integration\.http_integration-(message-wall|ml-inference)\.id\}$/,
      );
    }
    const permissions = Object.values(resources(json, 'aws_lambda_permission'));
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission['principal']).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(permission)).not.toMatch(provisioner);
    }
    expect(resources(json, 'aws_lambda_function_url')).toEqual({});
    // What does invoke it: the deploy's installs, with the deploy's own credentials.
    for (const invocation of Object.values(resources(json, 'aws_lambda_invocation'))) {
      expect(String(invocation['function_name'])).toMatch(provisioner);
    }
  });

  it(`serves DELETE (it wipes a wall) ${name === 'prod' ? 'only with SigV4 (AWS_IAM), with a policy that may call exactly those routes' : 'open, as in the post'}`, () => {
    const routes = Object.values(resources(json, 'aws_apigatewayv2_route'));
    const deletes = routes.filter((route) => String(route['route_key']).startsWith('DELETE '));
    expect(deletes.map((route) => route['route_key'])).toEqual(['DELETE /message-wall', 'DELETE /message-wall/{wall}']);
    const expected = name === 'prod' ? 'AWS_IAM' : 'NONE';
    for (const route of deletes) expect(route['authorization_type']).toBe(expected);
    for (const route of routes.filter((candidate) => !deletes.includes(candidate))) expect(route['authorization_type']).toBe('NONE');
    const policies = Object.values(resources(json, 'aws_iam_policy'));
    if (name !== 'prod') {
      expect(policies).toEqual([]);
      expect(json.output).not.toHaveProperty('protected_routes_policy_arn');
      return;
    }
    expect(policies).toHaveLength(1);
    const statements = (JSON.parse(String(policies[0]?.['policy'])) as PolicyDocument).Statement;
    const stageArn = '${aws_apigatewayv2_api.http_api.execution_arn}/${aws_apigatewayv2_stage.http_stage.name}';
    expect(statements).toEqual([
      {
        Sid: 'InvokeIamRoutes',
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: [`${stageArn}/DELETE/message-wall`, `${stageArn}/DELETE/message-wall/*`],
      },
    ]);
    expect(json.output['protected_routes_policy_arn']?.value).toBe('${aws_iam_policy.http_protected-routes-policy.arn}');
  });

  it('keeps the functions and mount targets in private subnets', () => {
    const subnets = resources(json, 'aws_subnet');
    const privateSubnets = new Set(Object.keys(subnets).filter((name) => name.startsWith('network_private-')));
    for (const fn of Object.values(resources(json, 'aws_lambda_function'))) {
      // A function without a file system runs outside the VPC (the web page).
      const ids = (fn['vpc_config'] as { subnet_ids: string[] } | undefined)?.subnet_ids ?? [];
      for (const id of ids) expect(privateSubnets.has(/^\$\{aws_subnet\.([^.]+)\.id\}$/.exec(id)?.[1] ?? '')).toBe(true);
    }
    for (const subnet of Object.values(subnets)) expect(subnet['map_public_ip_on_launch']).toBe(false);
  });
});
