import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { lambdaHandler, type FunctionDefinition } from '@lambda-efs/function-spec';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

import type { FunctionBundle } from '../bundling/bundle.js';
import type { FunctionsConfig } from '../config.js';
import { InfraError } from '../errors.js';
import { assumeRolePolicy, efsClientActions, type PolicyDocument, type PolicyStatement } from '../iam.js';
import { FUNCTIONS_PREFIX, type ArtifactBucket } from './artifacts.js';
import { NFS_PORT, type FileSystem } from './file-system.js';
import type { PrivateSubnet } from './network.js';

/** What Lambda needs to attach a function to a VPC (the AWSLambdaVPCAccessExecutionRole actions). */
const VPC_ACCESS_ACTIONS = Object.freeze([
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
]);

/** HTTPS: AWS APIs (through the gateway endpoints or NAT) and the URLs ml-inference fetches. */
const HTTPS_PORT = 443;
/** Plain HTTP: only for functions in `plainHttpEgress` (ml-inference fetches `http://` image URLs). */
const HTTP_PORT = 80;

/**
 * Environment every function gets: stack traces through the bundle's source map
 * (`handler.mjs.map`) point into the TypeScript sources.
 */
const COMMON_ENVIRONMENT = Object.freeze({ NODE_OPTIONS: '--enable-source-maps' });

/** What the stack adds to one function besides its declaration (the provisioner's bucket access). */
export interface FunctionAdditions {
  readonly environment?: Readonly<Record<string, string>>;
  /** Extra statements of the role's `additions` inline policy. */
  readonly statements?: readonly PolicyStatement[];
}

export interface FunctionsProps {
  readonly namePrefix: string;
  readonly functions: readonly FunctionDefinition[];
  /** A bundle for every function, by function name. */
  readonly bundles: ReadonlyMap<string, FunctionBundle>;
  readonly config: FunctionsConfig;
  readonly vpcId: string;
  readonly subnets: readonly PrivateSubnet[];
  readonly fileSystem: FileSystem;
  /** By function name. @default none */
  readonly additions?: ReadonlyMap<string, FunctionAdditions>;
  /**
   * Where deployment packages over Lambda's 50 MB direct-upload limit go (`functions/<name>/…`).
   * Required when a bundle says `uploadViaS3`.
   */
  readonly codeBucket?: ArtifactBucket;
}

/** A deployed function and what the API and the alarms attach to. */
export interface DeployedFunction {
  readonly definition: FunctionDefinition;
  /** The Lambda function name: `<namePrefix>-<name>`. */
  readonly functionName: string;
  readonly lambda: LambdaFunction;
  /** Present when the declaration asks for provisioned concurrency. */
  readonly alias: LambdaAlias | null;
  /** What API Gateway invokes: the alias when there is one, else the function. */
  readonly invokeArn: string;
  /** The alias name for the invoke permission's `qualifier`, or `null`. */
  readonly qualifier: string | null;
  /** The reserved concurrency this environment gives it (`functions.reservedConcurrency`), or `null`. */
  readonly reservedConcurrency: number | null;
  readonly role: IamRole;
  /** Its security group in the VPC; `null` for a function without a file system, which runs outside the VPC. */
  readonly securityGroup: SecurityGroup | null;
  readonly logGroup: CloudwatchLogGroup;
}

/**
 * One Lambda function per declaration: its own IAM role (log permissions; with a file system also
 * VPC permissions and EFS mount, and write unless read-only, through its own access point), with a
 * file system its own security group in the VPC (HTTPS out, NFS to the mount targets; a function
 * without one runs outside the VPC), a log group with retention, the esbuild bundle as a zip whose hash
 * redeploys on change, and, with provisioned concurrency, a published version behind an alias.
 * It also grants the functions to the file system (ingress rules and file system policy).
 */
export class Functions extends Construct {
  /** By declared function name, in declaration order. */
  readonly functions: ReadonlyMap<string, DeployedFunction>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { fileSystem, namePrefix } = props;

    // First each function's identity: the file system policy names every role, and each function
    // must exist only after that policy (and every mount target) does.
    const identities = props.functions.map((definition) => {
      const bundle = props.bundles.get(definition.name);
      if (bundle === undefined) {
        throw new InfraError('EBUNDLE', `Function "${definition.name}" has no bundle: bundle every function before building the stack.`);
      }
      const scope = new Construct(this, definition.name);
      const functionName = `${namePrefix}-${definition.name}`;
      const tags = { Name: functionName };

      // Only a function with a file system needs the VPC (its mount targets are there); one
      // without (the web page) runs outside it: no network interfaces, no NAT in its path.
      const securityGroup = definition.fileSystem === null ? null : functionSecurityGroup(scope, definition, functionName, tags, props);

      const logGroup = new CloudwatchLogGroup(scope, 'log-group', {
        name: `/aws/lambda/${functionName}`,
        retentionInDays: props.config.logRetentionDays,
        tags,
      });
      const role = new IamRole(scope, 'role', {
        name: functionName,
        description: `Execution role of Lambda function ${functionName}`,
        assumeRolePolicy: JSON.stringify(assumeRolePolicy('lambda.amazonaws.com')),
        tags,
      });
      const vpcAndLogs: PolicyDocument = {
        Version: '2012-10-17',
        Statement: [
          // Lambda manages the function's network interfaces; EC2 offers no resource-level scope for these.
          ...(securityGroup === null
            ? []
            : [{ Sid: 'ManageVpcNetworkInterfaces', Effect: 'Allow' as const, Action: VPC_ACCESS_ACTIONS, Resource: '*' }]),
          {
            Sid: 'WriteOwnLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `${logGroup.arn}:*`,
          },
        ],
      };
      const policies: ITerraformDependable[] = [
        new IamRolePolicy(scope, 'vpc-and-logs-policy', {
          name: 'vpc-and-logs',
          role: role.id,
          policy: JSON.stringify(vpcAndLogs),
        }),
      ];
      const extraStatements = props.additions?.get(definition.name)?.statements ?? [];
      if (extraStatements.length > 0) {
        policies.push(
          new IamRolePolicy(scope, 'additions-policy', {
            name: 'additions',
            role: role.id,
            policy: JSON.stringify({ Version: '2012-10-17', Statement: extraStatements } satisfies PolicyDocument),
          }),
        );
      }
      if (definition.fileSystem !== null) {
        const accessPoint = fileSystem.accessPoint(definition.fileSystem.accessPoint.name);
        const efsClient: PolicyDocument = {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'MountThroughOwnAccessPoint',
              Effect: 'Allow',
              Action: efsClientActions(definition.fileSystem.readOnly),
              Resource: fileSystem.fileSystem.arn,
              Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.arn } },
            },
          ],
        };
        policies.push(
          new IamRolePolicy(scope, 'efs-client-policy', {
            name: 'efs-client',
            role: role.id,
            policy: JSON.stringify(efsClient),
          }),
        );
      }
      return { definition, bundle, scope, functionName, tags, securityGroup, logGroup, role, policies };
    });

    const fileSystemPolicy = fileSystem.grantClients(
      identities.flatMap(({ definition, role, securityGroup }) =>
        definition.fileSystem === null || securityGroup === null
          ? []
          : [
              {
                name: definition.name,
                roleArn: role.arn,
                securityGroupId: securityGroup.id,
                accessPointName: definition.fileSystem.accessPoint.name,
                readOnly: definition.fileSystem.readOnly,
              },
            ],
      ),
    );

    const deployed = identities.map((identity): DeployedFunction => {
      const { definition, bundle, scope, functionName, tags, securityGroup, logGroup, role, policies } = identity;
      let code: { filename: string } | { s3Bucket: string; s3Key: string; s3ObjectVersion: string };
      if (bundle.uploadViaS3) {
        // Over 50 MB zipped: Lambda takes it only from S3.
        if (props.codeBucket === undefined) {
          throw new InfraError(
            'EBUNDLE',
            `Function "${definition.name}": its package is ${bundle.bytes} bytes zipped, over Lambda's 50 MB direct upload, and no artifact bucket was given to upload it to.`,
          );
        }
        const object = props.codeBucket.upload(scope, 'code-object', {
          key: `${FUNCTIONS_PREFIX}${definition.name}/${bundle.sha256Hex}.zip`,
          path: bundle.zipPath,
          sha256Hex: bundle.sha256Hex,
          md5Hex: createHash('md5').update(readFileSync(bundle.zipPath)).digest('hex'),
          contentType: 'application/zip',
        });
        code = { s3Bucket: object.bucket, s3Key: object.key, s3ObjectVersion: object.versionId };
      } else {
        const asset = new TerraformAsset(scope, 'code', {
          path: bundle.zipPath,
          type: AssetType.FILE,
          assetHash: bundle.sha256Hex,
        });
        code = { filename: asset.path };
      }
      const provisioned = definition.provisionedConcurrency;
      const reserved = props.config.reservedConcurrency[definition.name] ?? null;
      const mount = definition.fileSystem;
      const environment = { ...COMMON_ENVIRONMENT, ...definition.environment, ...props.additions?.get(definition.name)?.environment };
      const lambda = new LambdaFunction(scope, 'function', {
        functionName,
        description: definition.description,
        role: role.arn,
        runtime: definition.runtime,
        architectures: [definition.architecture],
        handler: lambdaHandler(definition),
        ...code,
        // Lambda's CodeSha256 of the zip: a code change, and only a code change, redeploys.
        sourceCodeHash: bundle.sha256Base64,
        memorySize: definition.memoryMb,
        timeout: definition.timeoutSeconds,
        // A version for the alias to point at, only when provisioned concurrency needs one.
        publish: provisioned !== null,
        // From this environment's configuration, not the declaration: see FunctionsConfig.reservedConcurrency.
        ...(reserved === null ? {} : { reservedConcurrentExecutions: reserved }),
        environment: { variables: environment },
        ...(securityGroup === null
          ? {}
          : {
              vpcConfig: {
                subnetIds: props.subnets.map((subnet) => subnet.subnetId),
                securityGroupIds: [securityGroup.id],
              },
            }),
        ...(mount === null
          ? {}
          : {
              fileSystemConfig: {
                arn: fileSystem.accessPoint(mount.accessPoint.name).arn,
                localMountPath: mount.mountPath,
              },
            }),
        // Every mount target (else the first invocations fail with EFSMountFailureException,
        // terraform-provider-aws #15053), the file system policy, the log group and the role's
        // permissions (Lambda checks the VPC permissions when it creates the function).
        dependsOn: [...(mount === null ? [] : [...fileSystem.mountTargets, fileSystemPolicy]), logGroup, ...policies],
        tags,
      });

      let alias: LambdaAlias | null = null;
      if (provisioned !== null) {
        alias = new LambdaAlias(scope, 'alias', {
          name: props.config.aliasName,
          description: 'The published version API Gateway invokes, kept warm by provisioned concurrency',
          functionName: lambda.functionName,
          functionVersion: lambda.version,
        });
        new LambdaProvisionedConcurrencyConfig(scope, 'provisioned-concurrency', {
          functionName: lambda.functionName,
          qualifier: alias.name,
          provisionedConcurrentExecutions: provisioned,
        });
      }
      return {
        definition,
        functionName,
        lambda,
        alias,
        invokeArn: alias === null ? lambda.invokeArn : alias.invokeArn,
        qualifier: alias === null ? null : alias.name,
        reservedConcurrency: reserved,
        role,
        securityGroup,
        logGroup,
      };
    });
    this.functions = new Map(deployed.map((fn) => [fn.definition.name, fn]));
  }
}

/** A function's security group in the VPC: HTTPS out (and HTTP for `plainHttpEgress`), NFS to the mount targets. */
function functionSecurityGroup(
  scope: Construct,
  definition: FunctionDefinition,
  functionName: string,
  tags: Record<string, string>,
  props: FunctionsProps,
): SecurityGroup {
  const plainHttp = props.config.plainHttpEgress.includes(definition.name);
  const securityGroup = new SecurityGroup(scope, 'security-group', {
    name: `${functionName}-function`,
    description: `Lambda function ${functionName}: HTTPS${plainHttp ? ' and HTTP' : ''} out, NFS to the EFS mount targets`,
    vpcId: props.vpcId,
    revokeRulesOnDelete: true,
    // Lambda releases a function's network interfaces lazily after it is deleted.
    timeouts: { delete: '45m' },
    tags,
  });
  new VpcSecurityGroupEgressRule(scope, 'https-out', {
    securityGroupId: securityGroup.id,
    cidrIpv4: '0.0.0.0/0',
    ipProtocol: 'tcp',
    fromPort: HTTPS_PORT,
    toPort: HTTPS_PORT,
    description: 'HTTPS to AWS APIs and the internet',
  });
  if (plainHttp) {
    // It accepts http:// URLs from callers: without this rule they would time out (EFETCHTIMEOUT).
    new VpcSecurityGroupEgressRule(scope, 'http-out', {
      securityGroupId: securityGroup.id,
      cidrIpv4: '0.0.0.0/0',
      ipProtocol: 'tcp',
      fromPort: HTTP_PORT,
      toPort: HTTP_PORT,
      description: 'HTTP to the internet (http:// image URLs)',
    });
  }
  new VpcSecurityGroupEgressRule(scope, 'nfs-out', {
    securityGroupId: securityGroup.id,
    referencedSecurityGroupId: props.fileSystem.securityGroup.id,
    ipProtocol: 'tcp',
    fromPort: NFS_PORT,
    toPort: NFS_PORT,
    description: 'NFS to the EFS mount targets',
  });
  return securityGroup;
}
