export { startLocalApi, type LocalApi, type ServedRoute } from './api.js';
export { CLI_ENVIRONMENT, CLI_USAGE, DEFAULT_INVOKE_PORT, parseCliArgs, type CliCommand, type CliSettings } from './cli/args.js';
export { DEFAULT_BUNDLES_DIR, runLocalApi, type RunLocalApiOptions } from './cli/run.js';
export {
  AccessPointDirectoryError,
  InvalidDeclarationError,
  InvalidOptionError,
  InvalidPackageError,
  ListenError,
  LocalRuntimeError,
  MissingEntryError,
  type DeclarationIssue,
  type LocalRuntimeErrorCode,
} from './errors.js';
export type { HttpApiEvent, HttpApiEventHttp, HttpApiRequestContext, HttpApiStructuredResult } from './http/payload.js';
export type { AwsCredentials } from './environments/lambda-environment.js';
export { PLATFORM_LIMITS } from './limits.js';
export { PACKAGE_LIMITS } from './packages/task-directories.js';
export type { LogFormat, LogSink } from './logs/logger.js';
export { LOCAL_API_DEFAULTS, type LocalApiOptions } from './options.js';
