import { EfsAccessPoint } from '@cdktf/provider-aws/lib/efs-access-point/index.js';
import { EfsBackupPolicy } from '@cdktf/provider-aws/lib/efs-backup-policy/index.js';
import { EfsFileSystemPolicy } from '@cdktf/provider-aws/lib/efs-file-system-policy/index.js';
import { EfsFileSystem } from '@cdktf/provider-aws/lib/efs-file-system/index.js';
import { EfsMountTarget } from '@cdktf/provider-aws/lib/efs-mount-target/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';

import type { FileSystemConfig } from '../../../src/config.js';
import { FileSystem, fileSystemPolicyDocument } from '../../../src/constructs/file-system.js';
import { InfraError } from '../../../src/errors.js';
import { fixtureConfig } from '../../fixtures/config.js';
import { messageAccessPoint, mlAccessPoint } from '../../fixtures/system.js';
import { referenceTo, resources, synthScope } from '../../helpers.js';

const subnets = [
  { availabilityZone: 'us-east-1a', subnetId: 'subnet-aaaaaaaa' },
  { availabilityZone: 'us-east-1b', subnetId: 'subnet-bbbbbbbb' },
];

function buildFileSystem(scope: Construct, config: Partial<FileSystemConfig> = {}): FileSystem {
  return new FileSystem(scope, 'efs', {
    namePrefix: 'lambda-efs-dev',
    vpcId: 'vpc-12345678',
    subnets,
    config: { ...fixtureConfig().fileSystem, ...config },
    accessPoints: [messageAccessPoint, mlAccessPoint],
  });
}

describe('FileSystem', () => {
  const { text, json } = synthScope((scope) => {
    const fileSystem = buildFileSystem(scope);
    fileSystem.grantClients([
      {
        name: 'message-wall',
        roleArn: 'arn:aws:iam::123456789012:role/wall',
        securityGroupId: 'sg-wall',
        accessPointName: 'message',
        readOnly: false,
      },
      {
        name: 'ml-inference',
        roleArn: 'arn:aws:iam::123456789012:role/ml',
        securityGroupId: 'sg-ml',
        accessPointName: 'ml',
        readOnly: true,
      },
    ]);
  });

  it('encrypts at rest with a customer-managed KMS key that rotates', () => {
    expect(text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(text).toHaveResourceWithProperties(EfsFileSystem, {
      encrypted: true,
      kms_key_id: expect.stringMatching(referenceTo('aws_kms_key', 'arn')),
    });
  });

  it('is General Purpose with elastic throughput and the configured lifecycle', () => {
    expect(text).toHaveResourceWithProperties(EfsFileSystem, {
      performance_mode: 'generalPurpose',
      throughput_mode: 'elastic',
      lifecycle_policy: [{ transition_to_ia: 'AFTER_30_DAYS' }, { transition_to_primary_storage_class: 'AFTER_1_ACCESS' }],
    });
    const fileSystem = Object.values(resources(json, 'aws_efs_file_system'))[0];
    expect(fileSystem).not.toHaveProperty('provisioned_throughput_in_mibps');
  });

  it('has automatic backups on', () => {
    expect(text).toHaveResourceWithProperties(EfsBackupPolicy, { backup_policy: { status: 'ENABLED' } });
  });

  it('has one mount target per zone, behind its own security group', () => {
    expect(text).toHaveResourceWithProperties(EfsMountTarget, {
      subnet_id: 'subnet-aaaaaaaa',
      security_groups: [expect.stringMatching(referenceTo('aws_security_group', 'id'))],
    });
    expect(text).toHaveResourceWithProperties(EfsMountTarget, { subnet_id: 'subnet-bbbbbbbb' });
    expect(Object.keys(resources(json, 'aws_efs_mount_target'))).toHaveLength(2);
  });

  it('creates each access point with creation_info, so EFS creates its root directory (the post: /message, 1001, 750)', () => {
    expect(text).toHaveResourceWithProperties(EfsAccessPoint, {
      posix_user: { uid: 1001, gid: 1001 },
      root_directory: { path: '/message', creation_info: { owner_uid: 1001, owner_gid: 1001, permissions: '750' } },
    });
    expect(text).toHaveResourceWithProperties(EfsAccessPoint, { root_directory: expect.objectContaining({ path: '/ml' }) });
  });

  it("admits NFS (TCP 2049) only from each client's security group", () => {
    for (const group of ['sg-wall', 'sg-ml']) {
      expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
        referenced_security_group_id: group,
        ip_protocol: 'tcp',
        from_port: 2049,
        to_port: 2049,
      });
    }
    const rules = Object.values(resources(json, 'aws_vpc_security_group_ingress_rule'));
    expect(rules).toHaveLength(2);
    expect(rules.some((rule) => 'cidr_ipv4' in rule || 'cidr_ipv6' in rule)).toBe(false);
  });

  it('attaches the file system policy', () => {
    expect(text).toHaveResourceWithProperties(EfsFileSystemPolicy, {
      file_system_id: expect.stringMatching(referenceTo('aws_efs_file_system', 'id')),
    });
  });

  it('refuses a second grantClients call: there is one policy per file system', () => {
    expect(() =>
      synthScope((scope) => {
        const fileSystem = buildFileSystem(scope);
        fileSystem.grantClients([]);
        fileSystem.grantClients([]);
      }),
    ).toThrow('FileSystem.grantClients was called twice');
  });

  it('refuses two subnets in one zone: EFS allows one mount target per zone', () => {
    let error: unknown;
    try {
      synthScope((scope) => {
        new FileSystem(scope, 'efs', {
          namePrefix: 'x',
          vpcId: 'vpc-12345678',
          subnets: [subnets[0]!, { availabilityZone: 'us-east-1a', subnetId: 'subnet-cccccccc' }],
          config: fixtureConfig().fileSystem,
          accessPoints: [],
        });
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toContain('Two subnets in us-east-1a');
  });
});

describe('FileSystem throughput and lifecycle options', () => {
  it('sets provisioned MiB/s in provisioned mode', () => {
    const { text } = synthScope((scope) => buildFileSystem(scope, { throughput: { mode: 'provisioned', mibps: 10 } }));
    expect(text).toHaveResourceWithProperties(EfsFileSystem, { throughput_mode: 'provisioned', provisioned_throughput_in_mibps: 10 });
  });

  it('sets bursting mode without a provisioned rate, and no lifecycle when transitionToIa is null', () => {
    const { json } = synthScope((scope) => buildFileSystem(scope, { throughput: { mode: 'bursting' }, transitionToIa: null }));
    const fileSystem = Object.values(resources(json, 'aws_efs_file_system'))[0];
    expect(fileSystem).toMatchObject({ throughput_mode: 'bursting' });
    expect(fileSystem).not.toHaveProperty('provisioned_throughput_in_mibps');
    expect(fileSystem?.['lifecycle_policy'] ?? []).toEqual([]);
  });
});

describe('fileSystemPolicyDocument', () => {
  const document = fileSystemPolicyDocument('arn:fs', [
    { name: 'message-wall', roleArn: 'arn:role/wall', accessPointArn: 'arn:ap/message', readOnly: false },
    { name: 'ml-inference', roleArn: 'arn:role/ml', accessPointArn: 'arn:ap/ml', readOnly: true },
  ]);

  it('denies every action without TLS (not only mount and write), to everyone', () => {
    expect(document.Statement[0]).toEqual({
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'elasticfilesystem:*',
      Resource: 'arn:fs',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('lets each role mount only through its own access point and a mount target', () => {
    expect(document.Statement[1]).toEqual({
      Sid: 'MountMessageWallThroughItsAccessPoint',
      Effect: 'Allow',
      Principal: { AWS: 'arn:role/wall' },
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: 'arn:fs',
      Condition: {
        StringEquals: { 'elasticfilesystem:AccessPointArn': 'arn:ap/message' },
        Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
      },
    });
  });

  it('grants a read-only function ClientMount without ClientWrite', () => {
    expect(document.Statement[2]?.Action).toEqual(['elasticfilesystem:ClientMount']);
  });

  it('never grants ClientRootAccess and gives every statement a unique letters-and-digits Sid', () => {
    expect(JSON.stringify(document)).not.toContain('ClientRootAccess');
    const sids = document.Statement.map((statement) => statement.Sid ?? '');
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('keeps Sids unique when two names differ only in punctuation', () => {
    const { Statement } = fileSystemPolicyDocument('arn:fs', [
      { name: 'a-b', roleArn: 'r1', accessPointArn: 'p1', readOnly: false },
      { name: 'a_b', roleArn: 'r2', accessPointArn: 'p2', readOnly: false },
    ]);
    expect(Statement.map((statement) => statement.Sid)).toEqual([
      'DenyWithoutTls',
      'MountABThroughItsAccessPoint',
      'MountABThroughItsAccessPoint2',
    ]);
  });
});
