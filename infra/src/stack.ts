import { AwsProvider, type AwsProviderConfig } from '@cdktf/provider-aws/lib/provider/index.js';
import type { SystemDefinition } from '@lambda-efs/function-spec';
import { Annotations, LocalBackend, S3Backend, TerraformElement, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct, Node } from 'constructs';

import type { FunctionBundle } from './bundling/bundle.js';
import { validateConfig, type InfraConfig } from './config.js';
import { FileSystem } from './constructs/file-system.js';
import { Functions } from './constructs/functions.js';
import { HttpApi } from './constructs/http-api.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { InfraError } from './errors.js';
import { throughputWarning } from './planner/workload-check.js';

/** The hashicorp/aws version `@cdktf/provider-aws` 20.1.0 binds (the synthesized `required_providers`). */
export const AWS_PROVIDER_VERSION = '5.100.0';

export interface LambdaEfsStackProps {
  readonly config: InfraConfig;
  /** The functions and access points to deploy (`defineSystem(...)`). */
  readonly system: SystemDefinition;
  /** A bundle for every function of `system`, by function name. */
  readonly bundles: ReadonlyMap<string, FunctionBundle>;
}

/** The AWS provider settings of a configuration: real credentials, or the offline mock profile. */
export function providerConfig(config: InfraConfig): AwsProviderConfig {
  const defaultTags = [
    { tags: { Project: 'lambda-efs', Environment: config.environment, ManagedBy: 'cdktf', ...config.tags } },
  ];
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

    this.network = new Network(this, 'network', { config: config.network, namePrefix, region: config.region });
    this.fileSystem = new FileSystem(this, 'efs', {
      namePrefix,
      vpcId: this.network.vpcId,
      subnets: this.network.privateSubnets,
      config: config.fileSystem,
      accessPoints: system.accessPoints,
    });
    this.functions = new Functions(this, 'functions', {
      namePrefix,
      functions: system.functions,
      bundles: props.bundles,
      config: config.functions,
      vpcId: this.network.vpcId,
      subnets: this.network.privateSubnets,
      fileSystem: this.fileSystem,
    });
    this.httpApi = new HttpApi(this, 'http', {
      namePrefix,
      config: config.api,
      routes: system.routes,
      functions: this.functions.functions,
    });
    this.monitoring = new Monitoring(this, 'monitoring', {
      namePrefix,
      config: config.monitoring,
      fileSystemConfig: config.fileSystem,
      fileSystemId: this.fileSystem.fileSystem.id,
      functions: this.functions.functions,
    });

    const deployed = [...this.functions.functions.values()];
    const accessPoints = [...this.fileSystem.accessPoints.entries()];
    new TerraformOutput(this, 'api_url', {
      value: this.httpApi.api.apiEndpoint,
      description: 'Base URL of the HTTP API ($default stage): append a route path, e.g. /message-wall',
    });
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

    const warning = throughputWarning(config.fileSystem);
    this.warnings = warning === null ? [] : [warning];
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
