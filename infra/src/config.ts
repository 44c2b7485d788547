// The stack's typed configuration: what differs between environments (dev, prod) and between
// accounts. Function settings (memory, timeout, routes, access points, concurrency) are NOT here:
// they come from the functions' declarations (@lambda-efs/function-spec), so they are written once.
import type { SystemDefinition } from '@lambda-efs/function-spec';

import { parseCidr } from './cidr.js';
import { InfraConfigError } from './errors.js';
import type { ThroughputMode } from './planner/throughput.js';
import { declaredRouteFor, ROUTE_AUTHORIZATION_TYPES, type SimpleRouteAuthorization } from './route-authorization.js';

/** The environments this repository deploys. */
export const ENVIRONMENT_NAMES = ['dev', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Everything one instance of the stack needs besides the functions' declarations. */
export interface InfraConfig {
  /** Environment name; part of every resource name and the `Environment` tag. @example 'dev' */
  readonly environment: string;
  /** Prefix of every resource name: lower-case letters, digits and `-`. @example 'lambda-efs-dev' */
  readonly namePrefix: string;
  /** AWS region. @example 'us-east-1' */
  readonly region: string;
  readonly network: NetworkConfig;
  readonly fileSystem: FileSystemConfig;
  readonly functions: FunctionsConfig;
  readonly api: ApiConfig;
  readonly monitoring: MonitoringConfig;
  /** The artifact bucket and what the deploy installs on the file system through the provisioner. */
  readonly artifacts: ArtifactsConfig;
  /** Where Terraform keeps state. */
  readonly backend: BackendConfig;
  /** How the AWS provider authenticates. */
  readonly provider: ProviderConfig;
  /** Tags on every resource (provider `default_tags`), besides `Project`, `Environment` and `ManagedBy`. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A new VPC, or an existing one. */
export type NetworkConfig = NewVpcConfig | ExistingVpcConfig;

/**
 * A new VPC: one private subnet per availability zone (the functions and the EFS mount targets),
 * route tables with S3 and DynamoDB gateway endpoints and, when `natGateways` is not `'none'`,
 * one public subnet per zone, an internet gateway and NAT gateway(s) for outbound internet access.
 */
export interface NewVpcConfig {
  readonly kind: 'new';
  /** The VPC's block, a /16 to /24; subnets are its /(prefix + 4) blocks. @example '10.20.0.0/16' */
  readonly cidr: string;
  /**
   * The availability zones: `{ count }` looks up that many zones of `region` that are available in
   * the account (names map to different physical zones per account, so none is written here), or
   * 2 to 8 zone names. With the `offline-mock` provider a lookup becomes `<region>a`, `<region>b`, …
   * (no AWS call), so the offline plan still works.
   * @example { count: 2 }
   * @example ['eu-west-1a', 'eu-west-1b']
   */
  readonly availabilityZones: readonly string[] | AvailabilityZoneLookup;
  /**
   * Outbound internet for the functions (ml-inference fetches image URLs): `'none'`, one NAT gateway
   * (`'single'`, cheaper, one zone's outage cuts it) or one per zone (`'per-az'`).
   */
  readonly natGateways: 'none' | 'single' | 'per-az';
}

/** Zones looked up at plan time (`aws_availability_zones`): the first `count` available ones. */
export interface AvailabilityZoneLookup {
  /** How many zones, 2 to 8 (one subnet and one EFS mount target in each). */
  readonly count: number;
  /**
   * Zone ids never to use. Lambda refuses subnets in some zones (observed: `use1-az3` in
   * us-east-1, "Lambda does not currently support the Availability Zone").
   * @default ['use1-az3']
   */
  readonly excludeZoneIds: readonly string[];
}

/**
 * An existing VPC. Give one private subnet per availability zone (EFS allows one mount target per
 * zone); their routes (NAT, endpoints) are the VPC owner's business.
 */
export interface ExistingVpcConfig {
  readonly kind: 'existing';
  /** @example 'vpc-0123456789abcdef0' */
  readonly vpcId: string;
  readonly subnets: readonly { readonly availabilityZone: string; readonly subnetId: string }[];
}

/** EFS lifecycle transition to Infrequent Access (EFS `TransitionToIA` values). */
export const IA_TRANSITIONS = [
  'AFTER_1_DAY',
  'AFTER_7_DAYS',
  'AFTER_14_DAYS',
  'AFTER_30_DAYS',
  'AFTER_60_DAYS',
  'AFTER_90_DAYS',
  'AFTER_180_DAYS',
  'AFTER_270_DAYS',
  'AFTER_365_DAYS',
] as const;
export type IaTransition = (typeof IA_TRANSITIONS)[number];

/** The workload the throughput planner checks the configured mode against at synth time. */
export interface WorkloadConfig {
  /** Data expected in the Standard storage class, GiB (the bursting baseline depends on it). */
  readonly storedGib: number;
  /** Data one cold start reads from EFS (libraries, a model), GiB. */
  readonly coldStartGib: number;
  /** Cold starts a day the system must sustain (deployments, scale-ups). */
  readonly coldStartsPerDay: number;
}

export interface FileSystemConfig {
  /**
   * `elastic` (pay per use; needs General Purpose, which this stack always uses), `bursting`, or
   * `provisioned` with MiB/s. Synth warns when the mode cannot sustain `workload`.
   * @default { mode: 'elastic' }
   */
  readonly throughput: ThroughputMode;
  /** Move files not read for this long to Infrequent Access; `null`: never. */
  readonly transitionToIa: IaTransition | null;
  /** Waiting period before the file system's KMS key is deleted, 7 to 30 days. @default 30 */
  readonly kmsKeyDeletionWindowDays: number;
  readonly workload: WorkloadConfig;
}

export interface FunctionsConfig {
  /** CloudWatch Logs retention of each function's log group, in days (a value CloudWatch accepts). */
  readonly logRetentionDays: number;
  /**
   * Modules esbuild leaves out of every bundle because the Lambda runtime provides them (native
   * modules are declared per function instead: `nativeModules`). Patterns as esbuild's `external`.
   * @example ['@aws-sdk/*']
   */
  readonly externalModules: readonly string[];
  /** Name of the alias that provisioned concurrency, the integration and the permission target. @default 'live' */
  readonly aliasName: string;
  /**
   * Reserved concurrency per function name, in this environment. A function not listed reserves
   * none (the declaration's `reservedConcurrency` caps the local runtime's environments only): a
   * fresh account's concurrency quota can be as low as 10, and Lambda refuses any reservation that
   * leaves fewer than 10 unreserved. Raise the quota, then list caps here (or in
   * `LAMBDA_EFS_RESERVED_CONCURRENCY`). Each reserved environment also caps EFS connections.
   * @default {}
   * @example { 'message-wall': 50, 'ml-inference': 10 }
   */
  readonly reservedConcurrency: Readonly<Record<string, number>>;
  /**
   * The account's Lambda concurrency quota in the region (Service Quotas → Lambda → Concurrent
   * executions): the most environments, so EFS connections, unreserved functions can reach. The
   * ClientConnections alarm is computed from it.
   * @default 1000 (Lambda's default quota; new accounts may start lower)
   */
  readonly accountConcurrency: number;
  /**
   * Functions whose security group also allows plain HTTP (TCP 80) out, besides HTTPS: those that
   * fetch caller-given `http://` URLs (ml-inference). Others get HTTPS only. Names of functions
   * not in the system are ignored.
   * @default ['ml-inference']
   */
  readonly plainHttpEgress: readonly string[];
}

/** The release the deploy installs and activates when none is given: the demo model, or a directory. */
export type DefaultModelConfig =
  | { readonly source: 'demo' }
  | {
      readonly source: 'directory';
      /** Absolute path of the release directory (model.onnx, labels.txt, model.json). */
      readonly directory: string;
      /** Model name: the release set `models/<name>`; the serving function's MODEL_NAME. */
      readonly name: string;
      /** Release version (letters, digits, `.`, `+`, `-`, `_`). */
      readonly version: string;
    };

/**
 * The artifact bucket (release archives for the provisioner; deployment packages too large to
 * upload directly) and what the deploy provisions on EFS.
 */
export interface ArtifactsConfig {
  /** Days a replaced or deleted artifact version is kept before S3 expires it. @default 30 */
  readonly noncurrentVersionDays: number;
  /** Days after which S3 aborts an unfinished multipart upload (and frees its parts). @default 7 */
  readonly abortIncompleteUploadDays: number;
  /**
   * `terraform destroy` deletes the bucket with every artifact version in it. `false`: destroy
   * stops at the bucket while it holds objects (empty it yourself, see DEPLOY.md).
   * @default true in dev, false in prod
   */
  readonly forceDestroy: boolean;
  /** Name of the provisioning function (declared in the system). @default 'efs-provisioner' */
  readonly provisioner: string;
  /**
   * The model release `cdktf deploy` installs and activates whenever its archive changes; `null`:
   * none (publish one with `pnpm model:publish`).
   * @default { source: 'demo' }
   */
  readonly defaultModel: DefaultModelConfig | null;
}

/** Authorization of one route of the HTTP API. */
export type RouteAuthorization =
  | { readonly type: 'NONE' }
  | { readonly type: 'AWS_IAM' }
  | {
      readonly type: 'JWT';
      /** A key of {@link ApiConfig.jwtAuthorizers}. */
      readonly authorizer: string;
      /** OAuth scopes the token must carry; empty: any valid token. */
      readonly scopes: readonly string[];
    };

export interface JwtAuthorizerConfig {
  /** Token issuer URL. @example 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123' */
  readonly issuer: string;
  /** Accepted `aud` values (Cognito: app client ids). */
  readonly audience: readonly string[];
}

export interface ApiConfig {
  /** Default route throttling of the `$default` stage. */
  readonly throttling: { readonly burstLimit: number; readonly rateLimit: number };
  /** Retention of the JSON access log group, in days. */
  readonly accessLogRetentionDays: number;
  /** JWT authorizers by name. @default {} */
  readonly jwtAuthorizers: Readonly<Record<string, JwtAuthorizerConfig>>;
  /**
   * Authorization of every DELETE the functions serve: a declared `DELETE` route, and the DELETE
   * of each declared `ANY` route, which infra adds as a route of its own (`DELETE /message-wall`
   * next to `ANY /message-wall`; API Gateway prefers it to ANY), so that only the DELETE needs it.
   * DELETE wipes a wall: open in dev, as in the post; `AWS_IAM` (SigV4) in prod.
   * `routeAuthorization` overrides it per route key.
   * @default dev: 'NONE'; prod: 'AWS_IAM'
   */
  readonly deleteAuthorization: SimpleRouteAuthorization;
  /**
   * Authorization per route key, over `deleteAuthorization`; other routes are open (`NONE`), as in
   * the post. A key is a declared route key, or one method of a declared `ANY` route
   * (`PUT /message-wall` of `ANY /message-wall`: infra then adds that method's route). Any other
   * key is an error. The `AWS_IAM` routes get a managed policy that may call them (output
   * `protected_routes_policy_arn`).
   * @default {} (`LAMBDA_EFS_ROUTE_AUTHORIZATION` sets entries)
   * @example { 'DELETE /message-wall': { type: 'NONE' }, 'POST /ml-inference': { type: 'AWS_IAM' } }
   */
  readonly routeAuthorization: Readonly<Record<string, RouteAuthorization>>;
}

export interface MonitoringConfig {
  /** E-mail subscribed to the alarm topic (confirm the subscription mail); `null`: none. */
  readonly alarmEmail: string | null;
  /** Bursting mode: alarm when BurstCreditBalance is below this many cold-start loads. @default 10 */
  readonly burstCreditColdStarts: number;
  /** Alarm when PercentIOLimit reaches this, in percent. @default 95 */
  readonly percentIoLimit: number;
  /**
   * Alarm when ClientConnections reaches this. `null`: 80% of the most environments the mounting
   * functions can run at once (their reserved concurrency, the account's unreserved quota for the
   * others; at most EFS's 25,000 connections).
   */
  readonly clientConnections: number | null;
  /** Alarm when the HTTP API answers this many 5xx in 5 minutes. @default 1 */
  readonly api5xx: number;
  /** Alarm when a function's longest run in 5 minutes reaches this percentage of its timeout. @default 80 */
  readonly durationPercentOfTimeout: number;
  /** Alarm when a function has this many errors in 5 minutes. @default 1 */
  readonly functionErrors: number;
  /** Alarm when a function is throttled this many times in 5 minutes. @default 1 */
  readonly functionThrottles: number;
}

/** Terraform state: a local file (offline synth and plan), or S3 with native locking. */
export type BackendConfig =
  | {
      readonly kind: 'local';
      /** State file path, relative to the synthesized stack directory. */
      readonly path: string;
    }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** @example 'lambda-efs/dev/terraform.tfstate' */
      readonly key: string;
      readonly region: string;
    };

/**
 * `aws`: credentials from the usual chain (environment, profile, SSO, instance role); optionally
 * refuses to run against another account. `offline-mock`: mock keys and every `skip_*` flag, so
 * that `terraform plan` runs without AWS (tests and `pnpm --filter @lambda-efs/infra plan` only).
 */
export type ProviderConfig = { readonly kind: 'aws'; readonly allowedAccountIds: readonly string[] } | { readonly kind: 'offline-mock' };

/** Deploy-time settings that differ per account, from the environment (read once, see {@link readDeployEnvironment}). */
export interface DeployEnvironment {
  /** `LAMBDA_EFS_STATE_BUCKET`: S3 bucket for Terraform state; unset: local state. */
  readonly stateBucket: string | null;
  /** `LAMBDA_EFS_STATE_REGION`: the bucket's region. @default the environment's region */
  readonly stateRegion: string | null;
  /** `LAMBDA_EFS_ALARM_EMAIL`: e-mail subscribed to the alarm topic. */
  readonly alarmEmail: string | null;
  /** `LAMBDA_EFS_ACCOUNT_ID`: the only account the provider may act on (12 digits). */
  readonly accountId: string | null;
  /** `LAMBDA_EFS_RESERVED_CONCURRENCY`: `name=N,…`, replaces the environment's `functions.reservedConcurrency`. */
  readonly reservedConcurrency?: Readonly<Record<string, number>> | null;
  /** `LAMBDA_EFS_ACCOUNT_CONCURRENCY`: the account's Lambda concurrency quota. */
  readonly accountConcurrency?: number | null;
  /**
   * `LAMBDA_EFS_ROUTE_AUTHORIZATION`: `<route key>=NONE|AWS_IAM,…`, the environment's
   * `api.routeAuthorization`: each entry overrides the environment's default for that route key.
   */
  readonly routeAuthorization?: Readonly<Record<string, SimpleRouteAuthorization>> | null;
}

/** Deploy-time environment variables, with what each does. */
export const DEPLOY_VARIABLES = Object.freeze({
  stateBucket: 'LAMBDA_EFS_STATE_BUCKET',
  stateRegion: 'LAMBDA_EFS_STATE_REGION',
  alarmEmail: 'LAMBDA_EFS_ALARM_EMAIL',
  accountId: 'LAMBDA_EFS_ACCOUNT_ID',
  reservedConcurrency: 'LAMBDA_EFS_RESERVED_CONCURRENCY',
  accountConcurrency: 'LAMBDA_EFS_ACCOUNT_CONCURRENCY',
  routeAuthorization: 'LAMBDA_EFS_ROUTE_AUTHORIZATION',
});

/** Zones Lambda does not support (observed), left out of every lookup. */
const DEFAULT_EXCLUDED_ZONE_IDS: readonly string[] = Object.freeze(['use1-az3']);

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ACCOUNT_ID = /^\d{12}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Reads the deploy-time variables once, failing fast with the variable's name.
 * @throws {InfraConfigError} naming every malformed variable.
 */
export function readDeployEnvironment(env: Readonly<Record<string, string | undefined>>): DeployEnvironment {
  const problems: string[] = [];
  const read = (name: string, pattern: RegExp, rule: string): string | null => {
    const value = env[name]?.trim();
    if (value === undefined || value === '') return null;
    if (!pattern.test(value)) problems.push(`${name}=${JSON.stringify(value)} is invalid: ${rule}.`);
    return value;
  };
  const result = {
    stateBucket: read(DEPLOY_VARIABLES.stateBucket, S3_BUCKET, 'give an S3 bucket name (3-63 lower-case letters, digits, "." or "-")'),
    stateRegion: read(DEPLOY_VARIABLES.stateRegion, REGION, 'give a region name such as "eu-west-1"'),
    alarmEmail: read(DEPLOY_VARIABLES.alarmEmail, EMAIL, 'give one e-mail address'),
    accountId: read(DEPLOY_VARIABLES.accountId, ACCOUNT_ID, 'give the 12-digit AWS account id'),
    reservedConcurrency: parseReservedConcurrency(env[DEPLOY_VARIABLES.reservedConcurrency], problems),
    accountConcurrency: (() => {
      const value = read(
        DEPLOY_VARIABLES.accountConcurrency,
        /^[1-9]\d{0,6}$/,
        "give the account's Lambda concurrency quota, a whole number such as 1000",
      );
      return value === null ? null : Number(value);
    })(),
    routeAuthorization: parseRouteAuthorization(env[DEPLOY_VARIABLES.routeAuthorization], problems),
  };
  if (problems.length > 0) throw new InfraConfigError('Deploy environment', problems);
  return result;
}

/** `message-wall=50,ml-inference=10` → `{ 'message-wall': 50, 'ml-inference': 10 }`; `null` when unset. */
function parseReservedConcurrency(text: string | undefined, problems: string[]): Record<string, number> | null {
  const value = text?.trim();
  if (value === undefined || value === '') return null;
  const result: Record<string, number> = {};
  for (const pair of value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const match = /^([A-Za-z0-9_-]{1,64})=(\d{1,6})$/.exec(pair);
    if (match === null || match[1] === undefined || match[2] === undefined) {
      problems.push(
        `${DEPLOY_VARIABLES.reservedConcurrency}=${JSON.stringify(value)} is invalid at ${JSON.stringify(pair)}: ` +
          'give comma-separated <function>=<whole number> pairs, e.g. "message-wall=50,ml-inference=10".',
      );
      continue;
    }
    result[match[1]] = Number(match[2]);
  }
  return result;
}

/**
 * `DELETE /message-wall=NONE, DELETE /message-wall/{wall}=AWS_IAM` → a type per route key;
 * `null` when unset. Whether each key names a route is checked against the system by `validateConfig`.
 */
function parseRouteAuthorization(text: string | undefined, problems: string[]): Record<string, SimpleRouteAuthorization> | null {
  const value = text?.trim();
  if (value === undefined || value === '') return null;
  const result: Record<string, SimpleRouteAuthorization> = {};
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const match = /^([A-Z]+ \/\S*)\s*=\s*(\S+)$/.exec(entry);
    const type = ROUTE_AUTHORIZATION_TYPES.find((candidate) => candidate === match?.[2]);
    if (match === null || match[1] === undefined || type === undefined) {
      problems.push(
        `${DEPLOY_VARIABLES.routeAuthorization}=${JSON.stringify(value)} is invalid at ${JSON.stringify(entry)}: ` +
          `give comma-separated <route key>=<${ROUTE_AUTHORIZATION_TYPES.join('|')}> entries, e.g. "DELETE /message-wall=AWS_IAM,DELETE /message-wall/{wall}=AWS_IAM".`,
      );
      continue;
    }
    result[match[1]] = type;
  }
  return result;
}

/** `LAMBDA_EFS_ROUTE_AUTHORIZATION`'s entries as `api.routeAuthorization`. */
function routeAuthorizationOf(deploy: DeployEnvironment): Record<string, RouteAuthorization> {
  return Object.fromEntries(Object.entries(deploy.routeAuthorization ?? {}).map(([routeKey, type]) => [routeKey, { type }]));
}

/**
 * The configuration of `dev` or `prod`, with the deploy-time settings applied.
 * dev: two zones, one NAT gateway, short log retention. prod: three zones, a NAT gateway per zone,
 * longer retention, higher API limits and DELETE only with SigV4 (IAM). Both: elastic throughput
 * (the post's ml-inference loads 2 GiB per cold start, which bursting at 10 GiB sustains only 20
 * times a day).
 */
export function environmentConfig(name: EnvironmentName, deploy: DeployEnvironment): InfraConfig {
  const region = 'us-east-1';
  const namePrefix = `lambda-efs-${name}`;
  const backend: BackendConfig =
    deploy.stateBucket === null
      ? { kind: 'local', path: 'terraform.tfstate' }
      : {
          kind: 's3',
          bucket: deploy.stateBucket,
          key: `lambda-efs/${name}/terraform.tfstate`,
          region: deploy.stateRegion ?? region,
        };
  const common = {
    environment: name,
    namePrefix,
    region,
    backend,
    provider: { kind: 'aws', allowedAccountIds: deploy.accountId === null ? [] : [deploy.accountId] },
    tags: {},
    functions: {
      logRetentionDays: name === 'prod' ? 90 : 14,
      // Native modules are declared by each function (nativeModules), which says where they come from.
      externalModules: [],
      aliasName: 'live',
      // None by default: a reservation fails on fresh accounts with a reduced concurrency quota.
      reservedConcurrency: deploy.reservedConcurrency ?? {},
      accountConcurrency: deploy.accountConcurrency ?? 1000,
      plainHttpEgress: ['ml-inference'],
    },
    artifacts: {
      noncurrentVersionDays: 30,
      abortIncompleteUploadDays: 7,
      forceDestroy: name !== 'prod',
      provisioner: 'efs-provisioner',
      defaultModel: { source: 'demo' },
    },
    fileSystem: {
      throughput: { mode: 'elastic' },
      transitionToIa: 'AFTER_30_DAYS',
      kmsKeyDeletionWindowDays: 30,
      workload: { storedGib: 10, coldStartGib: 2, coldStartsPerDay: name === 'prod' ? 200 : 20 },
    },
    monitoring: {
      alarmEmail: deploy.alarmEmail,
      burstCreditColdStarts: 10,
      percentIoLimit: 95,
      clientConnections: null,
      functionErrors: 1,
      functionThrottles: 1,
      api5xx: 1,
      durationPercentOfTimeout: 80,
    },
  } as const satisfies Partial<InfraConfig>;

  if (name === 'dev') {
    return {
      ...common,
      network: {
        kind: 'new',
        cidr: '10.20.0.0/16',
        availabilityZones: { count: 2, excludeZoneIds: DEFAULT_EXCLUDED_ZONE_IDS },
        natGateways: 'single',
      },
      api: {
        throttling: { burstLimit: 100, rateLimit: 50 },
        accessLogRetentionDays: 14,
        jwtAuthorizers: {},
        // Open, as in the post.
        deleteAuthorization: 'NONE',
        routeAuthorization: routeAuthorizationOf(deploy),
      },
    };
  }
  return {
    ...common,
    network: {
      kind: 'new',
      cidr: '10.30.0.0/16',
      availabilityZones: { count: 3, excludeZoneIds: DEFAULT_EXCLUDED_ZONE_IDS },
      natGateways: 'per-az',
    },
    api: {
      throttling: { burstLimit: 1000, rateLimit: 500 },
      accessLogRetentionDays: 90,
      jwtAuthorizers: {},
      // Anyone could wipe a wall: only principals allowed execute-api:Invoke on the DELETE routes.
      deleteAuthorization: 'AWS_IAM',
      routeAuthorization: routeAuthorizationOf(deploy),
    },
  };
}

/** How `pnpm synth` runs, from the environment (read once, see {@link readSynthEnvironment}). */
export interface SynthEnvironment {
  /** `LAMBDA_EFS_ENVIRONMENTS`: comma-separated environments to synthesize. @default every one */
  readonly environments: readonly EnvironmentName[];
  /**
   * `LAMBDA_EFS_ONLY_BUILT=1`: leave out functions whose handler is not built yet (loudly) instead
   * of failing. For working while some apps have no handler; never for a deployment.
   * @default false
   */
  readonly onlyBuilt: boolean;
}

/**
 * Reads the synth-run variables once, failing fast with the variable's name.
 * @throws {InfraConfigError} naming every malformed variable.
 */
export function readSynthEnvironment(env: Readonly<Record<string, string | undefined>>): SynthEnvironment {
  const problems: string[] = [];
  const listed = (env['LAMBDA_EFS_ENVIRONMENTS'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = listed.filter((name) => !(ENVIRONMENT_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    problems.push(
      `LAMBDA_EFS_ENVIRONMENTS=${JSON.stringify(env['LAMBDA_EFS_ENVIRONMENTS'])} is invalid: ${unknown.join(', ')} ` +
        `is not an environment; use a comma-separated list of ${ENVIRONMENT_NAMES.join(', ')}.`,
    );
  }
  const onlyBuiltText = (env['LAMBDA_EFS_ONLY_BUILT'] ?? '').trim();
  if (!['', '0', '1', 'true', 'false'].includes(onlyBuiltText)) {
    problems.push(
      `LAMBDA_EFS_ONLY_BUILT=${JSON.stringify(onlyBuiltText)} is invalid: use 1 (or true) to leave out unbuilt functions, 0 or nothing otherwise.`,
    );
  }
  if (problems.length > 0) throw new InfraConfigError('Synth environment', problems);
  return {
    environments: listed.length === 0 ? ENVIRONMENT_NAMES : ([...new Set(listed)] as EnvironmentName[]),
    onlyBuilt: onlyBuiltText === '1' || onlyBuiltText === 'true',
  };
}

/** Retention values CloudWatch Logs accepts (`PutRetentionPolicy`). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Lambda function and IAM role names are both limited to 64 characters. */
const RESOURCE_NAME_MAX = 64;

/**
 * A function's environment variable listing the only ports it fetches URLs from (ml-inference's
 * `IMAGE_FETCH_ALLOWED_PORTS`): infra checks it against the egress it opens.
 */
const FETCH_PORTS_VARIABLE = 'IMAGE_FETCH_ALLOWED_PORTS';

/** Lambda refuses reservations that leave fewer than this many executions unreserved. */
const UNRESERVED_MINIMUM = 10;

/** A function behind the HTTP API must answer within its 30 s integration timeout. */
const MAX_ROUTED_TIMEOUT_SECONDS = 29;

/**
 * The availability zone names the stack uses when they are known before plan: given names, an
 * existing VPC's subnets, or (offline-mock provider) `<region>a`, `<region>b`, … for a lookup.
 * `null`: looked up by Terraform at plan time.
 */
export function availabilityZones(network: NetworkConfig, region: string, offline: boolean): readonly string[] | null {
  if (network.kind === 'existing') return network.subnets.map((subnet) => subnet.availabilityZone);
  const zones = network.availabilityZones;
  if (isZoneList(zones)) return zones;
  return offline ? Array.from({ length: zones.count }, (_, index) => `${region}${String.fromCharCode(97 + index)}`) : null;
}

/** How many zones (so subnets and mount targets) the network spans. */
export function zoneCount(network: NetworkConfig): number {
  if (network.kind === 'existing') return network.subnets.length;
  const zones = network.availabilityZones;
  return isZoneList(zones) ? zones.length : zones.count;
}

function isZoneList(zones: readonly string[] | AvailabilityZoneLookup): zones is readonly string[] {
  return Array.isArray(zones);
}

/**
 * Checks a configuration against the rules and against the system it deploys.
 * @throws {InfraConfigError} listing every problem, each naming its field.
 */
export function validateConfig(config: InfraConfig, system: SystemDefinition): void {
  const problems: string[] = [];
  const problem = (field: string, value: unknown, rule: string): void => {
    problems.push(`${field} ${JSON.stringify(value)} is invalid: ${rule}.`);
  };

  if (!/^[a-z][a-z0-9-]{0,31}$/.test(config.namePrefix)) {
    problem('namePrefix', config.namePrefix, 'use 1-32 lower-case letters, digits or "-", starting with a letter');
  }
  if (!REGION.test(config.region)) problem('region', config.region, 'give a region name such as "us-east-1"');

  const zones = availabilityZones(config.network, config.region, false) ?? [];
  const zonesField = config.network.kind === 'new' ? 'network.availabilityZones' : 'network.subnets';
  const count = zoneCount(config.network);
  if (!Number.isInteger(count) || count < 2 || count > 8) {
    problem(
      zonesField,
      config.network.kind === 'new' ? config.network.availabilityZones : zones,
      'give 2 to 8 availability zones: Lambda and EFS need two to survive a zone outage',
    );
  }
  if (config.network.kind === 'new' && !isZoneList(config.network.availabilityZones)) {
    for (const id of config.network.availabilityZones.excludeZoneIds) {
      if (!/^[a-z]{2,5}\d?-az\d{1,2}$/.test(id))
        problem('network.availabilityZones.excludeZoneIds', id, 'give zone ids such as "use1-az3"');
    }
  }
  if (new Set(zones).size !== zones.length) {
    problem(zonesField, zones, 'one entry per availability zone: EFS allows one mount target per zone');
  }
  for (const zone of zones) {
    if (!zone.startsWith(config.region) || zone.length !== config.region.length + 1) {
      problem(zonesField, zone, `name a zone of ${config.region} (example: "${config.region}a")`);
    }
  }
  if (config.network.kind === 'new') {
    const cidr = parseCidr(config.network.cidr);
    if (cidr === undefined || cidr.prefix < 16 || cidr.prefix > 24) {
      problem('network.cidr', config.network.cidr, 'give an IPv4 network from /16 to /24 (example: "10.20.0.0/16")');
    }
  } else {
    if (!/^vpc-[0-9a-f]{8,17}$/.test(config.network.vpcId)) {
      problem('network.vpcId', config.network.vpcId, 'give a VPC id (example: "vpc-0123456789abcdef0")');
    }
    for (const [index, subnet] of config.network.subnets.entries()) {
      if (!/^subnet-[0-9a-f]{8,17}$/.test(subnet.subnetId)) {
        problem(`network.subnets[${index}].subnetId`, subnet.subnetId, 'give a subnet id (example: "subnet-0123456789abcdef0")');
      }
    }
  }

  const { throughput } = config.fileSystem;
  if (throughput.mode === 'provisioned' && !(Number.isFinite(throughput.mibps) && throughput.mibps >= 1)) {
    problem('fileSystem.throughput.mibps', throughput.mibps, 'provisioned throughput is 1 MiB/s at least');
  }
  const windowDays = config.fileSystem.kmsKeyDeletionWindowDays;
  if (!Number.isInteger(windowDays) || windowDays < 7 || windowDays > 30) {
    problem('fileSystem.kmsKeyDeletionWindowDays', windowDays, 'KMS accepts 7 to 30 days');
  }
  const { workload } = config.fileSystem;
  for (const key of ['storedGib', 'coldStartGib', 'coldStartsPerDay'] as const) {
    if (!Number.isFinite(workload[key]) || workload[key] < 0 || (key === 'coldStartGib' && workload[key] === 0)) {
      problem(`fileSystem.workload.${key}`, workload[key], 'give a finite number above 0');
    }
  }

  for (const [field, days] of [
    ['functions.logRetentionDays', config.functions.logRetentionDays],
    ['api.accessLogRetentionDays', config.api.accessLogRetentionDays],
  ] as const) {
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
      problem(field, days, `CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')}`);
    }
  }
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(config.functions.aliasName) || /^\d+$/.test(config.functions.aliasName)) {
    problem('functions.aliasName', config.functions.aliasName, 'an alias name is a letter, then letters, digits, "-" or "_"');
  }
  for (const fn of system.functions) {
    const name = `${config.namePrefix}-${fn.name}`;
    if (name.length > RESOURCE_NAME_MAX) {
      problem(
        'namePrefix',
        config.namePrefix,
        `"${name}" is longer than the ${RESOURCE_NAME_MAX} characters Lambda and IAM allow; shorten the prefix`,
      );
    }
  }

  const { throttling } = config.api;
  if (!Number.isInteger(throttling.burstLimit) || throttling.burstLimit < 0) {
    problem('api.throttling.burstLimit', throttling.burstLimit, 'give a whole number of requests, 0 or more');
  }
  if (!Number.isFinite(throttling.rateLimit) || throttling.rateLimit < 0) {
    problem('api.throttling.rateLimit', throttling.rateLimit, 'give requests per second, 0 or more');
  }
  for (const [name, authorizer] of Object.entries(config.api.jwtAuthorizers)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(name)) {
      problem(`api.jwtAuthorizers`, name, 'an authorizer name is a letter, then letters, digits, "-" or "_"');
    }
    if (!/^https:\/\/\S+$/.test(authorizer.issuer)) {
      problem(`api.jwtAuthorizers.${name}.issuer`, authorizer.issuer, 'give the issuer URL, starting with https://');
    }
    if (authorizer.audience.length === 0) {
      problem(`api.jwtAuthorizers.${name}.audience`, authorizer.audience, 'give at least one audience (a Cognito app client id)');
    }
  }
  if (!(ROUTE_AUTHORIZATION_TYPES as readonly string[]).includes(config.api.deleteAuthorization)) {
    problem('api.deleteAuthorization', config.api.deleteAuthorization, `use ${ROUTE_AUTHORIZATION_TYPES.join(' or ')}`);
  }
  const routeKeys = system.routes.map((route) => route.routeKey as string);
  for (const [routeKey, authorization] of Object.entries(config.api.routeAuthorization)) {
    if (declaredRouteFor(routeKey, system.routes) === undefined) {
      problem(
        'api.routeAuthorization',
        routeKey,
        `no function declares this route, nor an ANY route of its path to take the method from (declared: ${routeKeys.join(', ') || 'none'}); ` +
          `fix the key in environmentConfig or ${DEPLOY_VARIABLES.routeAuthorization}`,
      );
    }
    if (authorization.type === 'JWT' && !(authorization.authorizer in config.api.jwtAuthorizers)) {
      problem(
        `api.routeAuthorization[${JSON.stringify(routeKey)}].authorizer`,
        authorization.authorizer,
        `add it to api.jwtAuthorizers (known: ${Object.keys(config.api.jwtAuthorizers).join(', ') || 'none'})`,
      );
    }
  }

  const { monitoring } = config;
  if (monitoring.alarmEmail !== null && !EMAIL.test(monitoring.alarmEmail)) {
    problem('monitoring.alarmEmail', monitoring.alarmEmail, 'give one e-mail address');
  }
  for (const key of ['burstCreditColdStarts', 'percentIoLimit', 'functionErrors', 'functionThrottles'] as const) {
    if (!Number.isFinite(monitoring[key]) || monitoring[key] <= 0) {
      problem(`monitoring.${key}`, monitoring[key], 'give a number above 0');
    }
  }
  if (monitoring.clientConnections !== null && !(Number.isInteger(monitoring.clientConnections) && monitoring.clientConnections > 0)) {
    problem('monitoring.clientConnections', monitoring.clientConnections, 'give a whole number above 0, or null for the default');
  }

  for (const key of ['api5xx', 'durationPercentOfTimeout'] as const) {
    if (!Number.isFinite(monitoring[key]) || monitoring[key] <= 0 || (key === 'durationPercentOfTimeout' && monitoring[key] > 100)) {
      problem(`monitoring.${key}`, monitoring[key], key === 'api5xx' ? 'give a number above 0' : 'give a percentage above 0, at most 100');
    }
  }

  const functionNames = new Set(system.functions.map((fn) => fn.name));
  const known = [...functionNames].join(', ') || 'none';
  for (const [name, reserved] of Object.entries(config.functions.reservedConcurrency)) {
    if (!functionNames.has(name)) problem('functions.reservedConcurrency', name, `no function has this name; declared: ${known}`);
    if (!Number.isInteger(reserved) || reserved < 0)
      problem(`functions.reservedConcurrency[${JSON.stringify(name)}]`, reserved, 'give a whole number, 0 or more (0 stops the function)');
    const fn = system.functions.find((candidate) => candidate.name === name);
    if (fn?.provisionedConcurrency != null && reserved < fn.provisionedConcurrency) {
      problem(
        `functions.reservedConcurrency[${JSON.stringify(name)}]`,
        reserved,
        `reserve at least the declared provisioned concurrency (${fn.provisionedConcurrency})`,
      );
    }
  }
  const reservedTotal = Object.values(config.functions.reservedConcurrency).reduce((sum, value) => sum + value, 0);
  if (!Number.isInteger(config.functions.accountConcurrency) || config.functions.accountConcurrency < 1) {
    problem(
      'functions.accountConcurrency',
      config.functions.accountConcurrency,
      "give the account's Lambda concurrency quota (Service Quotas → AWS Lambda → Concurrent executions)",
    );
  } else if (reservedTotal > config.functions.accountConcurrency - UNRESERVED_MINIMUM) {
    problem(
      'functions.reservedConcurrency',
      config.functions.reservedConcurrency,
      `reserves ${reservedTotal} of the account's ${config.functions.accountConcurrency}, but Lambda keeps ${UNRESERVED_MINIMUM} unreserved: ` +
        'reserve less, or raise the quota (Service Quotas) and set functions.accountConcurrency / LAMBDA_EFS_ACCOUNT_CONCURRENCY',
    );
  }
  for (const fn of system.functions) {
    // The ports a function says it fetches from must be ones its security group lets out, or those
    // fetches would time out instead of being refused.
    const fetchPorts = (fn.environment[FETCH_PORTS_VARIABLE] ?? '')
      .split(',')
      .map((port) => port.trim())
      .filter((port) => port !== '');
    const open = config.functions.plainHttpEgress.includes(fn.name) ? ['443', '80'] : ['443'];
    const closed = fetchPorts.filter((port) => !open.includes(port));
    if (closed.length > 0) {
      problem(
        `function "${fn.name}" environment ${FETCH_PORTS_VARIABLE}`,
        fn.environment[FETCH_PORTS_VARIABLE],
        `its security group lets out ${open.join(' and ')} only, so fetches from ${closed.join(', ')} would time out; ` +
          (closed.every((port) => port === '80') ? 'add it to functions.plainHttpEgress' : `list ${open.join(',')} at most`),
      );
    }
    if (fn.routes.length > 0 && fn.timeoutSeconds > MAX_ROUTED_TIMEOUT_SECONDS) {
      problem(
        `function "${fn.name}" timeoutSeconds`,
        fn.timeoutSeconds,
        `it serves HTTP routes, and the HTTP API stops waiting after 30 s (the client gets 503 while the function runs on); ` +
          `declare ${MAX_ROUTED_TIMEOUT_SECONDS} s or less in its defineFunction`,
      );
    }
  }

  const { artifacts } = config;
  for (const key of ['noncurrentVersionDays', 'abortIncompleteUploadDays'] as const) {
    if (!Number.isInteger(artifacts[key]) || artifacts[key] < 1)
      problem(`artifacts.${key}`, artifacts[key], 'give a whole number of days, 1 or more');
  }
  if (artifacts.defaultModel !== null) {
    const model = artifacts.defaultModel;
    if (model.source === 'directory') {
      if (!model.directory.startsWith('/')) problem('artifacts.defaultModel.directory', model.directory, 'give an absolute path');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(model.name))
        problem('artifacts.defaultModel.name', model.name, 'use 1 to 64 letters, digits, ".", "-" or "_", starting with a letter or digit');
      if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/.test(model.version))
        problem(
          'artifacts.defaultModel.version',
          model.version,
          'use 1 to 64 letters, digits, ".", "+", "-" or "_", starting with a letter or digit',
        );
    }
  }

  if (config.backend.kind === 's3') {
    if (!S3_BUCKET.test(config.backend.bucket)) problem('backend.bucket', config.backend.bucket, 'give an S3 bucket name');
    if (!REGION.test(config.backend.region)) problem('backend.region', config.backend.region, 'give a region name');
  }
  if (config.provider.kind === 'aws') {
    for (const id of config.provider.allowedAccountIds) {
      if (!ACCOUNT_ID.test(id)) problem('provider.allowedAccountIds', id, 'give 12-digit account ids');
    }
  }

  if (problems.length > 0) throw new InfraConfigError(`Configuration of "${config.environment}"`, problems);
}
