/** Node.js runtimes a function may declare (Lambda identifiers). */
export const RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Instruction set architectures Lambda offers. */
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** Where a function's native modules (npm packages with compiled addons) come from at run time. */
export const NATIVE_MODULE_SOURCES = ['package', 'file-system'] as const;
export type NativeModuleSource = (typeof NATIVE_MODULE_SOURCES)[number];

/**
 * The platform whose native binaries a function's architecture needs (Lambda runs Amazon Linux,
 * glibc): the name of its libraries directory, e.g. `libraries/linux-x64` on the file system.
 * @example nativePlatform('arm64') // 'linux-arm64'
 */
export function nativePlatform(architecture: Architecture): 'linux-x64' | 'linux-arm64' {
  return architecture === 'arm64' ? 'linux-arm64' : 'linux-x64';
}

/** HTTP methods an API Gateway HTTP API route key may name. `ANY` matches every method. */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/**
 * An API Gateway HTTP API route key: `"<METHOD> <path>"` or `"$default"` (the catch-all route).
 * The template type catches most typos at compile time; the validator checks the rest.
 * @example 'GET /message-wall'
 * @example 'ANY /message-wall/{wall}'
 * @example 'GET /files/{proxy+}'
 */
export type RouteKey = '$default' | `${RouteMethod} /${string}`;

/**
 * Environment variable keys Lambda sets itself and refuses in a function's configuration
 * (AWS Lambda developer guide, "Defined runtime environment variables"). The local runtime sets
 * the same keys for each execution environment.
 */
export const RESERVED_ENVIRONMENT_KEYS = Object.freeze([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'TZ',
] as const);

/** The platform limits the validator applies (Lambda, API Gateway and EFS API references). */
export const LIMITS = Object.freeze({
  functionNameMaxLength: 64,
  memoryMb: Object.freeze({ min: 128, max: 10_240 }),
  timeoutSeconds: Object.freeze({ min: 1, max: 900 }),
  descriptionMaxLength: 256,
  /** UTF-8 bytes of the environment serialized as JSON: what Lambda measures ("String measured: {...}"). */
  environmentMaxBytes: 4096,
  localMountPathMaxLength: 160,
  accessPointNameMaxLength: 64,
  rootPathMaxLength: 100,
  rootPathMaxDepth: 4,
  posixIdMax: 4_294_967_295,
  /** How long API Gateway waits for a Lambda integration; a longer function timeout still ends in 503 for HTTP clients. */
  httpIntegrationTimeoutSeconds: 30,
});

/**
 * The defaults `defineFunction` fills in. Except `runtime` (Lambda has no default runtime) and
 * `architecture`, each equals Lambda's own default, so an omitted field means what it means in
 * the Lambda API.
 */
export const FUNCTION_DEFAULTS = Object.freeze({
  handlerExport: 'handler',
  runtime: 'nodejs22.x' as Runtime,
  // x86_64, Lambda's own default: native modules (onnxruntime-node, sharp) installed on EFS from
  // an x86_64 CI runner or laptop then match the function without cross-installing. Functions with
  // no native code should opt into arm64, which is about 20% cheaper per GB-second.
  architecture: 'x86_64' as Architecture,
  memoryMb: 128,
  timeoutSeconds: 3,
  description: '',
});
