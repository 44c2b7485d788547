import { EfsAccessPoint } from '@cdktf/provider-aws/lib/efs-access-point/index.js';
import { EfsBackupPolicy } from '@cdktf/provider-aws/lib/efs-backup-policy/index.js';
import { EfsFileSystemPolicy } from '@cdktf/provider-aws/lib/efs-file-system-policy/index.js';
import { EfsFileSystem } from '@cdktf/provider-aws/lib/efs-file-system/index.js';
import { EfsMountTarget } from '@cdktf/provider-aws/lib/efs-mount-target/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import type { AccessPointDefinition } from '@lambda-efs/function-spec';
import { Token } from 'cdktf';
import { Construct } from 'constructs';

import type { FileSystemConfig } from '../config.js';
import { InfraError } from '../errors.js';
import { efsClientActions, EFS_ALL_ACTIONS, sidFragment, type PolicyDocument, type PolicyStatement } from '../iam.js';
import { movedFromZoneName, type PrivateSubnet } from './network.js';

/** The NFS port: the only one the mount targets' security group opens. */
export const NFS_PORT = 2049;

export interface FileSystemProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** One mount target is created in each (one per availability zone). */
  readonly subnets: readonly PrivateSubnet[];
  readonly config: FileSystemConfig;
  /** Every access point of the system, each once (`defineSystem(...).accessPoints`). */
  readonly accessPoints: readonly AccessPointDefinition[];
}

/** A function that mounts the file system: what it is allowed and where it connects from. */
export interface FileSystemClient {
  /** Function name (declaration), for rule descriptions and policy statement ids. */
  readonly name: string;
  readonly roleArn: string;
  readonly securityGroupId: string;
  /** Name of the access point it mounts (must be one of `accessPoints`). */
  readonly accessPointName: string;
  readonly readOnly: boolean;
}

/** A function's grant in the file system policy. */
export interface FileSystemGrant {
  readonly name: string;
  readonly roleArn: string;
  readonly accessPointArn: string;
  readonly readOnly: boolean;
}

/**
 * The file system policy: deny every action (`elasticfilesystem:*`) without TLS; allow each function's role to
 * mount (and write, unless read-only) only through its own access point and only through a mount
 * target. Once a policy exists EFS's default "allow any client" stops, so nothing else gets in.
 * Never grants `ClientRootAccess`.
 * @example
 * fileSystemPolicyDocument(fs.arn, [{ name: 'message-wall', roleArn, accessPointArn, readOnly: false }]);
 */
export function fileSystemPolicyDocument(fileSystemArn: string, grants: readonly FileSystemGrant[]): PolicyDocument {
  const used = new Set<string>();
  const statements: PolicyStatement[] = [
    {
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      // Every action, not only mount and write: a plain-text client must not even read.
      Action: EFS_ALL_ACTIONS,
      Resource: fileSystemArn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ];
  for (const grant of grants) {
    let sid = `Mount${sidFragment(grant.name)}ThroughItsAccessPoint`;
    for (let suffix = 2; used.has(sid); suffix += 1) sid = `Mount${sidFragment(grant.name)}ThroughItsAccessPoint${suffix}`;
    used.add(sid);
    statements.push({
      Sid: sid,
      Effect: 'Allow',
      Principal: { AWS: grant.roleArn },
      Action: efsClientActions(grant.readOnly),
      Resource: fileSystemArn,
      Condition: {
        StringEquals: { 'elasticfilesystem:AccessPointArn': grant.accessPointArn },
        Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
      },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The shared EFS file system: encrypted with a customer-managed KMS key (rotated yearly), General
 * Purpose, the configured throughput mode, automatic backups, optional Infrequent Access
 * lifecycle; one mount target per zone behind a security group that admits NFS only from the
 * functions' security groups; the declared access points, which create their root directory.
 */
export class FileSystem extends Construct {
  readonly kmsKey: KmsKey;
  readonly fileSystem: EfsFileSystem;
  /** The mount targets' security group. */
  readonly securityGroup: SecurityGroup;
  /** One per availability zone; a function that mounts the file system must depend on all. */
  readonly mountTargets: readonly EfsMountTarget[];
  /** By access point name. */
  readonly accessPoints: ReadonlyMap<string, EfsAccessPoint>;
  private policy: EfsFileSystemPolicy | undefined;

  constructor(scope: Construct, id: string, props: FileSystemProps) {
    super(scope, id);
    const { config, namePrefix } = props;
    const name = (suffix: string): { Name: string } => ({ Name: `${namePrefix}-${suffix}` });

    this.kmsKey = new KmsKey(this, 'kms-key', {
      description: `${namePrefix}: encryption at rest of the shared EFS file system`,
      enableKeyRotation: true,
      deletionWindowInDays: config.kmsKeyDeletionWindowDays,
      tags: name('efs'),
    });
    new KmsAlias(this, 'kms-alias', { name: `alias/${namePrefix}-efs`, targetKeyId: this.kmsKey.keyId });

    const { throughput } = config;
    this.fileSystem = new EfsFileSystem(this, 'file-system', {
      creationToken: `${namePrefix}-efs`,
      encrypted: true,
      kmsKeyId: this.kmsKey.arn,
      // Elastic throughput requires General Purpose; Max I/O adds latency Lambda does not need.
      performanceMode: 'generalPurpose',
      throughputMode: throughput.mode,
      ...(throughput.mode === 'provisioned' ? { provisionedThroughputInMibps: throughput.mibps } : {}),
      lifecyclePolicy:
        config.transitionToIa === null
          ? []
          : [{ transitionToIa: config.transitionToIa }, { transitionToPrimaryStorageClass: 'AFTER_1_ACCESS' }],
      tags: name('efs'),
    });
    new EfsBackupPolicy(this, 'backup-policy', {
      fileSystemId: this.fileSystem.id,
      backupPolicy: { status: 'ENABLED' },
    });

    this.securityGroup = new SecurityGroup(this, 'mount-target-security-group', {
      name: `${namePrefix}-efs-mount-targets`,
      description: `NFS (TCP ${NFS_PORT}) to the EFS mount targets, from the functions' security groups only`,
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
      tags: name('efs-mount-targets'),
    });

    const zones = new Set<string>();
    this.mountTargets = props.subnets.map((subnet, index) => {
      // Looked-up zones are distinct by construction (one element each of the lookup's list).
      if (!Token.isUnresolved(subnet.availabilityZone) && zones.has(subnet.availabilityZone)) {
        throw new InfraError(
          'EINFRACONFIG',
          `Two subnets in ${subnet.availabilityZone}: EFS allows one mount target per availability zone; give one subnet per zone.`,
        );
      }
      zones.add(subnet.availabilityZone);
      const mountTarget = new EfsMountTarget(this, `mount-target-${index + 1}`, {
        fileSystemId: this.fileSystem.id,
        subnetId: subnet.subnetId,
        securityGroups: [this.securityGroup.id],
      });
      movedFromZoneName(mountTarget, `mount-target-${subnet.legacyZoneName ?? subnet.availabilityZone}`);
      return mountTarget;
    });

    this.accessPoints = new Map(
      props.accessPoints.map((accessPoint) => [
        accessPoint.name,
        new EfsAccessPoint(this, `access-point-${accessPoint.name}`, {
          fileSystemId: this.fileSystem.id,
          posixUser: { uid: accessPoint.posixUser.uid, gid: accessPoint.posixUser.gid },
          rootDirectory: {
            path: accessPoint.rootPath,
            // Without creation_info EFS does not create the directory and every mount fails.
            creationInfo: {
              ownerUid: accessPoint.owner.uid,
              ownerGid: accessPoint.owner.gid,
              permissions: accessPoint.permissions,
            },
          },
          tags: name(`access-point-${accessPoint.name}`),
        }),
      ]),
    );
  }

  /** The access point named `name`. @throws {InfraError} when no such access point was declared. */
  accessPoint(name: string): EfsAccessPoint {
    const accessPoint = this.accessPoints.get(name);
    if (accessPoint === undefined) {
      throw new InfraError('EINFRACONFIG', `No access point "${name}": pass every access point of the system to FileSystem.`);
    }
    return accessPoint;
  }

  /**
   * Lets the functions in: an NFS ingress rule from each one's security group, and the file system
   * policy granting each role its own access point. Call once, with every client.
   * @returns the file system policy, which the functions should depend on.
   */
  grantClients(clients: readonly FileSystemClient[]): EfsFileSystemPolicy {
    if (this.policy !== undefined) {
      throw new InfraError('EINFRACONFIG', 'FileSystem.grantClients was called twice: pass every client in one call.');
    }
    for (const client of clients) {
      new VpcSecurityGroupIngressRule(this, `nfs-from-${client.name}`, {
        securityGroupId: this.securityGroup.id,
        referencedSecurityGroupId: client.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: NFS_PORT,
        toPort: NFS_PORT,
        description: `NFS from function ${client.name}`,
      });
    }
    const grants = clients.map((client) => ({
      name: client.name,
      roleArn: client.roleArn,
      accessPointArn: this.accessPoint(client.accessPointName).arn,
      readOnly: client.readOnly,
    }));
    this.policy = new EfsFileSystemPolicy(this, 'policy', {
      fileSystemId: this.fileSystem.id,
      policy: JSON.stringify(fileSystemPolicyDocument(this.fileSystem.arn, grants)),
    });
    return this.policy;
  }
}
