// Security properties, asserted over the synthesized Terraform JSON of whole stacks (dev and prod
// shapes): what must hold whatever a construct's details become.
import { afterAll, describe, expect, it } from 'vitest';

import type { PolicyDocument, PolicyStatement } from '../../src/iam.js';
import { fixtureConfig, fixtureProdConfig } from '../fixtures/config.js';
import { fixtureSystem } from '../fixtures/system.js';
import { bundleFixtures, resources, synthStack, temporaryDirectory, type SynthesizedJson } from '../helpers.js';

const work = temporaryDirectory('security');
afterAll(() => work.remove());
const bundles = await bundleFixtures(fixtureSystem(), work.path);

/** Every IAM policy document in the stack: role policies, trust policies, the file system policy. */
function policyDocuments(json: SynthesizedJson): PolicyDocument[] {
  return [
    ...Object.values(resources(json, 'aws_iam_role_policy')).map((policy) => policy['policy']),
    ...Object.values(resources(json, 'aws_iam_role')).map((role) => role['assume_role_policy']),
    ...Object.values(resources(json, 'aws_efs_file_system_policy')).map((policy) => policy['policy']),
  ].map((text) => JSON.parse(text as string) as PolicyDocument);
}

const actionsOf = (statement: PolicyStatement): readonly string[] =>
  typeof statement.Action === 'string' ? [statement.Action] : statement.Action;

describe.each([
  ['dev', fixtureConfig()],
  ['prod', fixtureProdConfig()],
])('security of the %s stack', (_name, config) => {
  const { json } = synthStack(bundles, config);
  const zones = config.network.kind === 'new' ? config.network.availabilityZones : [];

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
    expect(actionsOf(deny!)).toEqual(expect.arrayContaining(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']));
  });

  it('lets each allowed principal mount only through an access point and a mount target', () => {
    const [policy] = Object.values(resources(json, 'aws_efs_file_system_policy')).map(
      (resource) => JSON.parse(resource['policy'] as string) as PolicyDocument,
    );
    const allows = policy?.Statement.filter((statement) => statement.Effect === 'Allow') ?? [];
    expect(allows).toHaveLength(2);
    for (const statement of allows) {
      expect(statement.Principal?.AWS).toMatch(/^\$\{aws_iam_role\.[^.]+\.arn\}$/);
      expect(statement.Condition?.['StringEquals']?.['elasticfilesystem:AccessPointArn']).toMatch(/^\$\{aws_efs_access_point\.[^.]+\.arn\}$/);
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

  it('grants no wildcard EFS action, anywhere', () => {
    for (const document of policyDocuments(json)) {
      for (const statement of document.Statement) {
        for (const action of actionsOf(statement)) {
          expect(action).not.toBe('*');
          if (action.startsWith('elasticfilesystem:')) expect(action).not.toContain('*');
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
      .filter((statement) => statement.Effect === 'Allow' && actionsOf(statement).some((action) => action.startsWith('elasticfilesystem:')));
    expect(efsStatements.length).toBe(4); // two role policies, two file system policy grants
    for (const statement of efsStatements) {
      expect(statement.Resource).toMatch(/^\$\{aws_efs_file_system\.[^.]+\.arn\}$/);
      expect(statement.Condition?.['StringEquals']?.['elasticfilesystem:AccessPointArn']).toBeDefined();
    }
  });

  it('makes every function depend on every mount target', () => {
    const mountTargets = Object.keys(resources(json, 'aws_efs_mount_target')).map((name) => `aws_efs_mount_target.${name}`);
    const functions = Object.values(resources(json, 'aws_lambda_function'));
    expect(functions).toHaveLength(2);
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

  it('keeps the functions and mount targets in private subnets', () => {
    const subnets = resources(json, 'aws_subnet');
    const privateSubnets = new Set(Object.keys(subnets).filter((name) => name.startsWith('network_private-')));
    for (const fn of Object.values(resources(json, 'aws_lambda_function'))) {
      const ids = (fn['vpc_config'] as { subnet_ids: string[] }).subnet_ids;
      for (const id of ids) expect(privateSubnets.has(/^\$\{aws_subnet\.([^.]+)\.id\}$/.exec(id)?.[1] ?? '')).toBe(true);
    }
    for (const subnet of Object.values(subnets)) expect(subnet['map_public_ip_on_launch']).toBe(false);
  });
});
