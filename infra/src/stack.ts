import { AwsProvider, type AwsProviderConfig } from '@cdktf/provider-aws/lib/provider/index.js';
import type { FunctionDefinition, SystemDefinition } from '@lambda-efs/function-spec';
import { Annotations, LocalBackend, S3Backend, TerraformElement, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct, Node } from 'constructs';

import type { FunctionBundle } from './bundling/bundle.js';
import { validateConfig, type InfraConfig } from './config.js';
import { ArtifactBucket, RELEASES_PREFIX } from './constructs/artifacts.js';
import { FileSystem } from './constructs/file-system.js';
import { Functions, type FunctionAdditions } from './constructs/functions.js';
import { HttpApi } from './constructs/http-api.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { Provisioning } from './constructs/provisioning.js';
import { InfraError } from './errors.js';
import { throughputWarning } from './planner/workload-check.js';
import { librariesNodeModulesDir, librariesTarget, type ReleaseArtifact } from './releases.js';

export interface LambdaEfsStackProps {
  readonly config: InfraConfig;
  /** The functions and access points to deploy (`defineSystem(...)`). */
  readonly system: SystemDefinition;
  /** A bundle for every function of `system`, by function name. */
  readonly bundles: ReadonlyMap<string, FunctionBundle>;
  /**
   * Release archives the deploy uploads and installs on EFS through `config.artifacts.provisioner`
   * (the default model; native libraries for functions that load them from the file system).
   * @default []
   */
  readonly releases?: readonly ReleaseArtifact[];
}

/** The AWS provider settings of a configuration: real credentials, or the offline mock profile. */
function providerConfig(config: InfraConfig): AwsProviderConfig {
  const defaultTags = [{ tags: { Project: 'lambda-efs', Environment: config.environment, ManagedBy: 'cdktf', ...config.tags } }];
  if (config.provider.kind === 'offline-mock') {
    // Tests and the offline `plan` only: nothing here reaches AWS, and no data source is used, so
    // plan needs no account id.
    return {
      region: config.region,
      defaultTags,
      accessKey: 'mock',
      secretKey: 'mock',
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: 'true',
      skipRegionValidation: true,
    };
  }
  const { allowedAccountIds } = config.provider;
  return {
    region: config.region,
    defaultTags,
    ...(allowedAccountIds.length === 0 ? {} : { allowedAccountIds: [...allowedAccountIds] }),
  };
}

/**
 * A model release nobody serves: no function that mounts the provisioner's access point has
 * MODEL_NAME = the release's name, so the deploy would install a model no request reaches.
 */
function unservedModelWarnings(
  system: SystemDefinition,
  releases: readonly ReleaseArtifact[],
  provisioner: FunctionDefinition | undefined,
): string[] {
  const accessPoint = provisioner?.fileSystem?.accessPoint.name;
  const served = new Set(
    system.functions.flatMap((fn) => (fn.fileSystem?.accessPoint.name === accessPoint ? [fn.environment['MODEL_NAME'] ?? ''] : [])),
  );
  return releases
    .filter((release) => release.target.startsWith('models/') && !served.has(release.target.slice('models/'.length)))
    .map(
      (release) =>
        `The deploy installs ${release.description} as ${release.target}, but no function on the same access point serves it ` +
        "(MODEL_NAME): set MODEL_NAME in the serving function's declaration, or artifacts.defaultModel.name, to the same name.",
    );
}

// Logical ids already handed out, per stack (a field would be reset after super() returns).
const logicalIds = new WeakMap<TerraformStack, Map<string, string>>();

/**
 * The whole system in one stack, instantiated once per environment: network, encrypted EFS with
 * the declared access points, one Lambda per declared function, the HTTP API with the declared
 * routes, alarms, outputs. Everything comes from `system` (the declarations) and `config`.
 * Terraform addresses are the construct paths (`functions_message-wall_function`), so they read
 * well in plans and survive a move to HCL.
 * @throws {InfraConfigError} when `config` breaks a rule.
 * @example
 * const app = new App({ outdir: 'cdktf.out' });
 * new LambdaEfsStack(app, 'lambda-efs-dev', { config, system, bundles });
 * app.synth();
 */
export class LambdaEfsStack extends TerraformStack {
  readonly config: InfraConfig;
  readonly network: Network;
  readonly fileSystem: FileSystem;
  readonly functions: Functions;
  readonly httpApi: HttpApi;
  readonly monitoring: Monitoring;
  readonly artifacts: ArtifactBucket;
  readonly provisioning: Provisioning | null;
  /** Things to fix that do not stop synth (also recorded as cdktf annotations). */
  readonly warnings: readonly string[];

  constructor(scope: Construct, id: string, props: LambdaEfsStackProps) {
    super(scope, id);
    const { config, system } = props;
    validateConfig(config, system);
    this.config = config;
    const { namePrefix } = config;

    new AwsProvider(this, 'aws', providerConfig(config));
    if (config.backend.kind === 'local') {
      new LocalBackend(this, { path: config.backend.path });
    } else {
      const backend = new S3Backend(this, {
        bucket: config.backend.bucket,
        key: config.backend.key,
        region: config.backend.region,
        encrypt: true,
      });
      // S3-native state locking (Terraform >= 1.10): no DynamoDB table.
      backend.addOverride('use_lockfile', true);
    }

    this.network = new Network(this, 'network', {
      config: config.network,
      namePrefix,
      region: config.region,
      offline: config.provider.kind === 'offline-mock',
    });
    this.fileSystem = new FileSystem(this, 'efs', {
      namePrefix,
      vpcId: this.network.vpcId,
      subnets: this.network.privateSubnets,
      config: config.fileSystem,
      accessPoints: system.accessPoints,
    });
    this.artifacts = new ArtifactBucket(this, 'artifacts', { namePrefix, config: config.artifacts });
    const provisionerName = config.artifacts.provisioner;
    const releases = props.releases ?? [];
    const provisionerDefinition = system.functions.find((fn) => fn.name === provisionerName);
    const additions = new Map<string, FunctionAdditions>();
    // Native modules from the file system: the provisioner installs the platform's libraries
    // release on the function's access point; the function finds them through NODE_MODULES_DIR.
    for (const fn of system.functions) {
      if (fn.nativeModules.from !== 'file-system' || fn.nativeModules.packages.length === 0) continue;
      const target = librariesTarget(fn.architecture);
      const nodeModulesDir = librariesNodeModulesDir(fn);
      if (nodeModulesDir === null || !releases.some((release) => release.target === target)) {
        throw new InfraError(
          'EINFRACONFIG',
          `Function "${fn.name}" loads its native modules from the file system, but the stack has no ${target} release to install ` +
            "there: synthesize with synthesize() (it builds one), or declare nativeModules.from: 'package'.",
        );
      }
      if (provisionerDefinition?.fileSystem?.accessPoint.name !== fn.fileSystem?.accessPoint.name) {
        throw new InfraError(
          'EINFRACONFIG',
          `Function "${fn.name}" loads its native modules from access point "${fn.fileSystem?.accessPoint.name ?? ''}", which the provisioner ` +
            `"${provisionerName}" does not mount: only its own access point can be provisioned.`,
        );
      }
      additions.set(fn.name, { environment: { NODE_MODULES_DIR: nodeModulesDir } });
    }
    if (provisionerDefinition !== undefined) {
      additions.set(provisionerName, {
        // The bucket and the prefix its role may read: the provisioner refuses any other artifact.
        environment: { ARTIFACT_BUCKET: this.artifacts.bucket.id, ARTIFACT_PREFIX: RELEASES_PREFIX },
        statements: [
          {
            Sid: 'ReadReleaseArtifacts',
            Effect: 'Allow',
            // GetObjectVersion: the install event names the exact version it verified.
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Resource: this.artifacts.objectsArn(RELEASES_PREFIX),
          },
        ],
      });
    }
    this.functions = new Functions(this, 'functions', {
      namePrefix,
      functions: system.functions,
      bundles: props.bundles,
      config: config.functions,
      vpcId: this.network.vpcId,
      subnets: this.network.privateSubnets,
      fileSystem: this.fileSystem,
      additions,
      codeBucket: this.artifacts,
    });
    this.httpApi = new HttpApi(this, 'http', {
      namePrefix,
      config: config.api,
      routes: system.routes,
      functions: this.functions.functions,
    });
    const provisioner = this.functions.functions.get(provisionerName);
    if (releases.length > 0 && provisioner === undefined) {
      throw new InfraError(
        'EINFRACONFIG',
        `The deploy installs ${releases.map((release) => release.description).join(', ')} through function "${provisionerName}", ` +
          'which is not in the system: add it (apps/efs-provisioner) or set artifacts.defaultModel to null.',
      );
    }
    this.provisioning =
      provisioner === undefined || releases.length === 0
        ? null
        : new Provisioning(this, 'provisioning', {
            bucket: this.artifacts,
            provisioner,
            releases,
            dependsOn: [...this.fileSystem.mountTargets, ...this.network.egressReady],
          });

    this.monitoring = new Monitoring(this, 'monitoring', {
      namePrefix,
      config: config.monitoring,
      fileSystemConfig: config.fileSystem,
      fileSystemId: this.fileSystem.fileSystem.id,
      functions: this.functions.functions,
      apiId: this.httpApi.api.id,
      accountConcurrency: config.functions.accountConcurrency,
    });

    const deployed = [...this.functions.functions.values()];
    const accessPoints = [...this.fileSystem.accessPoints.entries()];
    new TerraformOutput(this, 'api_url', {
      value: this.httpApi.api.apiEndpoint,
      description: 'Base URL of the HTTP API ($default stage): append a route path, e.g. /message-wall',
    });
    if (this.httpApi.protectedRoutesPolicy !== null) {
      new TerraformOutput(this, 'protected_routes_policy_arn', {
        value: this.httpApi.protectedRoutesPolicy.arn,
        description:
          `Managed policy allowing execute-api:Invoke on the routes that need SigV4 (${this.httpApi.iamRouteKeys.join(', ')}): ` +
          'attach it to the deploy role (the smoke test signs its DELETE) and to operators',
      });
    }
    new TerraformOutput(this, 'file_system_id', { value: this.fileSystem.fileSystem.id });
    new TerraformOutput(this, 'access_point_ids', {
      value: Object.fromEntries(accessPoints.map(([name, accessPoint]) => [name, accessPoint.id])),
      description: 'EFS access point ids by access point name',
    });
    new TerraformOutput(this, 'access_point_arns', {
      value: Object.fromEntries(accessPoints.map(([name, accessPoint]) => [name, accessPoint.arn])),
      description: 'EFS access point ARNs by access point name',
    });
    new TerraformOutput(this, 'function_names', {
      value: Object.fromEntries(deployed.map((fn) => [fn.definition.name, fn.lambda.functionName])),
      description: 'Lambda function names by declared name',
    });
    new TerraformOutput(this, 'alarm_topic_arn', { value: this.monitoring.topic.arn });
    new TerraformOutput(this, 'artifact_bucket', {
      value: this.artifacts.bucket.id,
      description: `Bucket of release archives (${RELEASES_PREFIX}…) the provisioner installs: what pnpm model:publish uploads to`,
    });

    if (this.provisioning !== null) {
      new TerraformOutput(this, 'provisioned_releases', {
        value: Object.fromEntries([...this.provisioning.invocations].map(([target, invocation]) => [target, invocation.result])),
        description: "The provisioner's answer (JSON: action, active, previous, releases, message) for each release this deploy installed",
      });
    }

    const warning = throughputWarning(config.fileSystem);
    this.warnings = [...(warning === null ? [] : [warning]), ...unservedModelWarnings(system, releases, provisioner?.definition)];
    for (const message of this.warnings) Annotations.of(this).addWarning(message);
  }

  /** Terraform names from construct paths (`efs_file-system`) instead of cdktf's hashed ids. */
  protected override allocateLogicalId(element: TerraformElement | Node): string {
    const node = TerraformElement.isTerraformElement(element) ? element.node : element;
    const components = node.scopes.slice(node.scopes.indexOf(this) + 1).map((scope) => scope.node.id);
    if (components.length === 0) return '';
    const id = components.join('_').replace(/[^A-Za-z0-9_-]/g, '_');
    let known = logicalIds.get(this);
    if (known === undefined) {
      known = new Map();
      logicalIds.set(this, known);
    }
    const owner = known.get(id);
    if (owner !== undefined && owner !== node.path) {
      throw new InfraError('EINFRACONFIG', `"${owner}" and "${node.path}" would both be Terraform resource "${id}": rename one of them.`);
    }
    known.set(id, node.path);
    return id;
  }
}
