import { isIP } from 'node:net';
import { resolve } from 'node:path';

import { LOCAL_EFS_DIR, type AccessPointSpec, type FunctionSpec } from '@lambda-efs/function-spec';

import type { AwsCredentials } from './environments/lambda-environment.js';
import { InvalidOptionError } from './errors.js';
import { PLATFORM_LIMITS } from './limits.js';
import type { LogFormat, LogSink } from './logs/logger.js';

/**
 * Options of {@link startLocalApi}. Only `functions` is required; a `defineSystem(...)` result can
 * be spread in (`{ ...system, efsRoot, port: 0 }`): its `routes` are derived again and ignored.
 */
export interface LocalApiOptions {
  /** The functions to serve: `defineFunction` results (or specs; they are validated again). */
  readonly functions: readonly FunctionSpec[];
  /**
   * The declared access points (validated). When given, every access point a function mounts must
   * be among them: a check that the declarations agree. A directory is created when a function
   * first mounts its access point, as EFS creates an access point's root on first mount.
   * @default the functions' access points
   */
  readonly accessPoints?: readonly AccessPointSpec[];
  /** Ignored: routes come from `functions`. Accepted so a `SystemDefinition` can be spread in. */
  readonly routes?: unknown;
  /**
   * The directory standing in for the EFS file system: access point `/message` is `<efsRoot>/message`.
   * @default `./.efs` (from the current directory)
   */
  readonly efsRoot?: string;
  /** TCP port; `0` picks a free one (see `LocalApi.url`). @default 3000 */
  readonly port?: number;
  /** Address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Required to bind anything but a loopback address: the runtime runs code as other users and
   * has no authentication, so exposing it to the network must be a decision.
   * @default false
   */
  readonly allowRemote?: boolean;
  /** Lambda's log format. @default 'text' */
  readonly logFormat?: LogFormat;
  /** Where log lines go. @default the process's stdout (Lambda's lines) and stderr (the runtime's notes) */
  readonly logSink?: LogSink;
  /** Most environments of a function that declares no reserved concurrency. @default 10 */
  readonly defaultConcurrency?: number;
  /** An environment idle this long is ended. @default 300_000 (5 minutes) */
  readonly idleTimeoutMs?: number;
  /** Recycle a function's environments when its built code changes (a watch on the entry's directory). @default true */
  readonly watch?: boolean;
  /** Pause idle environments (SIGSTOP, 10 ms after their invocation) as Lambda freezes them. @default true */
  readonly freeze?: boolean;
  /** `AWS_REGION` of the environments. @default process.env.AWS_REGION, else 'us-east-1' */
  readonly region?: string;
  /** API Gateway's integration timeout (30 s); lower it in tests of the 503. @default 30_000 */
  readonly integrationTimeoutMs?: number;
  /**
   * Serve these functions from their deployment packages (function name → path of the zip infra
   * ships, `<bundles>/<name>/handler.zip`) instead of their `entry`: each zip is extracted into a
   * task directory named by its SHA-256 and its `handler.mjs` runs there, with
   * `--enable-source-maps`. Functions not named here run from `entry`.
   * @default none
   * @example new Map([['message-wall', 'infra/cdktf.out/bundles/message-wall/handler.zip']])
   */
  readonly packages?: ReadonlyMap<string, string>;
  /**
   * Port of Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for every
   * function, routed or not; `0` picks a free one (see `LocalApi.invokeUrl`). Bound on `host`.
   * @default no Invoke API
   */
  readonly invokePort?: number;
  /**
   * AWS credentials set in every environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
   * `AWS_SESSION_TOKEN`), as Lambda sets its execution role's: for functions that call AWS APIs
   * (or a local stand-in such as an S3 server).
   * @default none
   */
  readonly credentials?: AwsCredentials;
}

/** The options with every default applied and every value checked. */
export interface ResolvedOptions {
  readonly efsRoot: string;
  readonly port: number;
  readonly host: string;
  readonly logFormat: LogFormat;
  readonly logSink: LogSink | undefined;
  readonly defaultConcurrency: number;
  readonly idleTimeoutMs: number;
  readonly watch: boolean;
  readonly freeze: boolean;
  readonly region: string;
  readonly integrationTimeoutMs: number;
  /** Absolute zip paths by function name. */
  readonly packages: ReadonlyMap<string, string>;
  readonly invokePort: number | undefined;
  readonly credentials: AwsCredentials | undefined;
}

/** Defaults of {@link LocalApiOptions}. */
export const LOCAL_API_DEFAULTS = Object.freeze({
  port: 3000,
  host: '127.0.0.1',
  logFormat: 'text' as LogFormat,
  defaultConcurrency: 10,
  idleTimeoutMs: 300_000,
  watch: true,
  freeze: true,
  region: 'us-east-1',
  integrationTimeoutMs: PLATFORM_LIMITS.integrationTimeoutMs,
});

const KNOWN_KEYS = new Set([
  'functions',
  'accessPoints',
  'routes',
  'efsRoot',
  'port',
  'host',
  'allowRemote',
  'logFormat',
  'logSink',
  'defaultConcurrency',
  'idleTimeoutMs',
  'watch',
  'freeze',
  'region',
  'integrationTimeoutMs',
  'packages',
  'invokePort',
  'credentials',
]);

/** Applies defaults and checks every option. @throws {InvalidOptionError} */
export function resolveOptions(options: LocalApiOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'pass an object: startLocalApi({ functions: [...] })');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new InvalidOptionError(key, `unknown option; the options are ${[...KNOWN_KEYS].join(', ')}`);
    }
  }
  const host = options.host ?? LOCAL_API_DEFAULTS.host;
  if (typeof host !== 'string' || (isIP(host) === 0 && host !== 'localhost')) {
    throw new InvalidOptionError('host', `${JSON.stringify(host)} is not an IP address (example: "127.0.0.1")`);
  }
  if (!isLoopback(host) && options.allowRemote !== true) {
    throw new InvalidOptionError(
      'host',
      `${host} is not a loopback address: the runtime would be reachable from the network, without authentication. ` +
        'Pass allowRemote: true (--allow-remote) if that is what you want.',
    );
  }
  const logFormat = options.logFormat ?? LOCAL_API_DEFAULTS.logFormat;
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new InvalidOptionError('logFormat', `${JSON.stringify(logFormat)} is neither "text" nor "json"`);
  }
  if (options.logSink !== undefined && typeof options.logSink !== 'function') {
    throw new InvalidOptionError('logSink', 'must be a function (line, stream) => void');
  }
  const efsRoot = options.efsRoot ?? LOCAL_EFS_DIR;
  if (typeof efsRoot !== 'string' || efsRoot === '') {
    throw new InvalidOptionError('efsRoot', 'must be a directory path (example: ".efs")');
  }
  return {
    efsRoot: resolve(efsRoot),
    port: integer('port', options.port ?? LOCAL_API_DEFAULTS.port, 0, 65_535),
    host,
    logFormat,
    logSink: options.logSink,
    defaultConcurrency: integer('defaultConcurrency', options.defaultConcurrency ?? LOCAL_API_DEFAULTS.defaultConcurrency, 1, 1000),
    idleTimeoutMs: integer('idleTimeoutMs', options.idleTimeoutMs ?? LOCAL_API_DEFAULTS.idleTimeoutMs, 1, 2 ** 31 - 1),
    watch: boolean('watch', options.watch ?? LOCAL_API_DEFAULTS.watch),
    freeze: boolean('freeze', options.freeze ?? LOCAL_API_DEFAULTS.freeze),
    region: options.region ?? process.env['AWS_REGION'] ?? LOCAL_API_DEFAULTS.region,
    integrationTimeoutMs: integer(
      'integrationTimeoutMs',
      options.integrationTimeoutMs ?? LOCAL_API_DEFAULTS.integrationTimeoutMs,
      1,
      2 ** 31 - 1,
    ),
    packages: packages(options.packages),
    invokePort: options.invokePort === undefined ? undefined : integer('invokePort', options.invokePort, 0, 65_535),
    credentials: credentials(options.credentials),
  };
}

function packages(value: unknown): ReadonlyMap<string, string> {
  if (value === undefined) return new Map();
  if (!(value instanceof Map)) {
    throw new InvalidOptionError(
      'packages',
      "must be a Map of function name to zip path: new Map([['message-wall', 'bundles/message-wall/handler.zip']])",
    );
  }
  const resolved = new Map<string, string>();
  for (const [name, path] of value as Map<unknown, unknown>) {
    if (typeof name !== 'string' || typeof path !== 'string' || path === '') {
      throw new InvalidOptionError(
        'packages',
        `${JSON.stringify(name)} → ${JSON.stringify(path)}: each key must be a function name and each value a zip path`,
      );
    }
    resolved.set(name, resolve(path));
  }
  return resolved;
}

function credentials(value: unknown): AwsCredentials | undefined {
  if (value === undefined) return undefined;
  const record = value as Partial<Record<keyof AwsCredentials, unknown>> | null;
  const text = (field: unknown): field is string => typeof field === 'string' && field !== '';
  if (
    record === null ||
    typeof record !== 'object' ||
    !text(record.accessKeyId) ||
    !text(record.secretAccessKey) ||
    (record.sessionToken !== undefined && !text(record.sessionToken))
  ) {
    throw new InvalidOptionError('credentials', 'must be { accessKeyId, secretAccessKey, sessionToken? }, non-empty strings');
  }
  return {
    accessKeyId: record.accessKeyId,
    secretAccessKey: record.secretAccessKey,
    ...(record.sessionToken === undefined ? {} : { sessionToken: record.sessionToken }),
  };
}

/** Whether `host` only accepts connections from this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, `${JSON.stringify(value)} is not true or false`);
  return value;
}
