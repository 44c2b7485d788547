export { defineAccessPoint, validateAccessPoint } from './access-point.js';
export {
  ARCHITECTURES,
  FUNCTION_DEFAULTS,
  LIMITS,
  NATIVE_MODULE_SOURCES,
  RESERVED_ENVIRONMENT_KEYS,
  ROUTE_METHODS,
  RUNTIMES,
  nativePlatform,
  type Architecture,
  type NativeModuleSource,
  type RouteKey,
  type RouteMethod,
  type Runtime,
} from './constants.js';
export { FunctionSpecError, InvalidSpecError, type FunctionSpecErrorCode, type Issue } from './errors.js';
export { defineFunction, validateFunction } from './function.js';
export { LAMBDA_BUNDLE_FILE_NAME, lambdaHandler } from './lambda.js';
export { LOCAL_EFS_DIR, localAccessPointDir, localEnvironment } from './local.js';
export { parseRouteKey } from './route-key.js';
export { defineSystem, validateSystem } from './system.js';
export type {
  AccessPointDefinition,
  AccessPointSpec,
  FileSystemDefinition,
  FileSystemSpec,
  FunctionDefinition,
  FunctionSpec,
  NativeModulesDefinition,
  NativeModulesSpec,
  ParsedDefaultRoute,
  ParsedRoute,
  ParsedRouteKey,
  PosixIds,
  RouteSegment,
  SystemDefinition,
  SystemRoute,
  ValidationResult,
} from './types.js';
