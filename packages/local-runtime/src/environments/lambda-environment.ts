import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';

import { lambdaHandler, localEnvironment, type FunctionDefinition, type PosixIds } from '@lambda-efs/function-spec';

import { PLATFORM_LIMITS } from '../limits.js';
import type { LogFormat } from '../logs/logger.js';
import type { EnvironmentSpec } from './environment.js';

/** What the runtime decides for all functions, as opposed to what a function declares. */
export interface EnvironmentSettings {
  readonly region: string;
  readonly accountId: string;
  readonly logFormat: LogFormat;
  /** Where the function's access point is locally (its mount path's stand-in), if it has one. */
  readonly mountDir: string | undefined;
  /** The user the process runs as; `undefined`: the runtime's own user. */
  readonly user: PosixIds | undefined;
  /**
   * Where the function's deployment package was extracted, when it is served from one (see
   * `packages`): the environment imports `handler.mjs` there, as Lambda does from /var/task.
   * `undefined`: the declaration's `entry` (the tsc output).
   */
  readonly task?: { readonly dir: string; readonly entry: string } | undefined;
  /** The execution role's credentials, as Lambda sets them in every environment; `undefined`: none. */
  readonly credentials?: AwsCredentials | undefined;
}

/** AWS credentials given to the functions, as Lambda gives them its execution role's. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The module an environment imports and the directory it runs in. */
function codeOf(definition: FunctionDefinition, settings: EnvironmentSettings): { entry: string; taskRoot: string; handler: string } {
  if (settings.task !== undefined) {
    return { entry: settings.task.entry, taskRoot: settings.task.dir, handler: lambdaHandler(definition) };
  }
  return {
    entry: definition.entry,
    taskRoot: dirname(definition.entry),
    handler: `${basename(definition.entry).replace(/\.[cm]?js$/, '')}.${definition.handlerExport}`,
  };
}

/** The home directory of Lambda's sandbox user (`sbx_user1051`), set as HOME for other users. */
export const SANDBOX_HOME = '/home/sbx_user1051';

/**
 * Heap for a memory size: Lambda sizes Node's old space from the function's memory, leaving the
 * rest for the young generation, code and native memory; about 90% here.
 */
export function heapLimitMb(memoryMb: number): number {
  return Math.floor(memoryMb * 0.9);
}

/**
 * The variables Lambda defines for a Node.js function (Lambda developer guide, "Defined runtime
 * environment variables"), with local values where AWS's make no sense here: `LAMBDA_TASK_ROOT`
 * is the directory of the entry module (or of the extracted package) rather than `/var/task`.
 */
export function lambdaVariables(definition: FunctionDefinition, settings: EnvironmentSettings): Record<string, string> {
  const { taskRoot, handler } = codeOf(definition, settings);
  const variables: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    NODE_PATH: taskRoot,
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: handler,
    AWS_REGION: settings.region,
    AWS_DEFAULT_REGION: settings.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: definition.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${definition.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(new Date()),
  };
  if (settings.logFormat === 'json') variables['AWS_LAMBDA_LOG_FORMAT'] = 'JSON';
  // An access point's uid has no passwd entry here, so os.homedir() would throw (the AWS SDK calls
  // it to find ~/.aws): give the home Lambda's sandbox user has, which does not exist either.
  if (settings.user !== undefined) variables['HOME'] = SANDBOX_HOME;
  if (settings.credentials !== undefined) {
    variables['AWS_ACCESS_KEY_ID'] = settings.credentials.accessKeyId;
    variables['AWS_SECRET_ACCESS_KEY'] = settings.credentials.secretAccessKey;
    if (settings.credentials.sessionToken !== undefined) variables['AWS_SESSION_TOKEN'] = settings.credentials.sessionToken;
  }
  // The function's own variables cannot shadow Lambda's: function-spec refuses reserved keys.
  const own = settings.mountDir === undefined ? definition.environment : localEnvironment(definition, settings.mountDir);
  return { ...variables, ...own };
}

/** Lambda's log stream name of a new environment: `2024/05/01/[$LATEST]<32 hex digits>`. */
function logStreamName(date: Date): string {
  const day = date.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** Everything `ExecutionEnvironment` needs to start one environment of `definition`. */
export function environmentSpec(definition: FunctionDefinition, settings: EnvironmentSettings): EnvironmentSpec {
  const { entry, taskRoot } = codeOf(definition, settings);
  const execArgv = [`--max-old-space-size=${heapLimitMb(definition.memoryMb)}`];
  // A bundle's stack traces point into its TypeScript sources through handler.mjs.map, as on
  // Lambda, where infra sets NODE_OPTIONS=--enable-source-maps.
  if (settings.task !== undefined) execArgv.push('--enable-source-maps');
  return {
    bootstrap: {
      entry,
      handlerExport: definition.handlerExport,
      runtime: definition.runtime,
      accountId: settings.accountId,
      resultMaxBytes: PLATFORM_LIMITS.resultPayloadMaxBytes,
    },
    env: lambdaVariables(definition, settings),
    cwd: taskRoot,
    execArgv,
    user: settings.user,
    initTimeoutMs: PLATFORM_LIMITS.initTimeoutMs,
  };
}
