import { isAbsolute, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

import { checkAccessPoint } from './access-point.js';
import {
  ARCHITECTURES,
  FUNCTION_DEFAULTS,
  LIMITS,
  NATIVE_MODULE_SOURCES,
  RESERVED_ENVIRONMENT_KEYS,
  RUNTIMES,
  type RouteKey,
} from './constants.js';
import type { IssueList } from './internal/checks.js';
import {
  collectIssues,
  type Aliases,
  checkInteger,
  checkKnownKeys,
  childPath,
  deepFreeze,
  isRecord,
  optional,
  preview,
  subjectOf,
} from './internal/checks.js';
import { checkRouteKey, routeIdentity } from './route-key.js';
import type { FileSystemDefinition, FunctionDefinition, FunctionSpec, NativeModulesDefinition, ValidationResult } from './types.js';

const FUNCTION_KEYS = [
  'name',
  'entry',
  'handlerExport',
  'runtime',
  'architecture',
  'memoryMb',
  'timeoutSeconds',
  'routes',
  'fileSystem',
  'environment',
  'reservedConcurrency',
  'provisionedConcurrency',
  'description',
  'nativeModules',
] as const;
const FUNCTION_ALIASES: Aliases = {
  functionName: 'name',
  memorySize: 'memoryMb',
  memory: 'memoryMb',
  memory_size: 'memoryMb',
  memoryMB: 'memoryMb',
  timeout: 'timeoutSeconds',
  timeoutSec: 'timeoutSeconds',
  handler: ['entry', 'handlerExport'], // the module or the export: both are plausible
  main: 'entry',
  module: 'entry',
  file: 'entry',
  export: 'handlerExport',
  arch: 'architecture',
  architectures: 'architecture',
  route: 'routes',
  routeKeys: 'routes',
  paths: 'routes',
  env: 'environment',
  environmentVariables: 'environment',
  variables: 'environment',
  efs: 'fileSystem',
  fileSystemConfig: 'fileSystem',
  fileSystemConfigs: 'fileSystem',
  reservedConcurrentExecutions: 'reservedConcurrency',
  reserved: 'reservedConcurrency',
  provisionedConcurrentExecutions: 'provisionedConcurrency',
  provisioned: 'provisionedConcurrency',
  native: 'nativeModules',
  natives: 'nativeModules',
  nativeLibraries: 'nativeModules',
  externals: 'nativeModules',
  externalModules: 'nativeModules',
};
const NATIVE_MODULES_KEYS = ['packages', 'from'] as const;
const NATIVE_MODULES_ALIASES: Aliases = {
  modules: 'packages',
  names: 'packages',
  source: 'from',
  location: 'from',
};
const FILE_SYSTEM_KEYS = ['accessPoint', 'mountPath', 'readOnly'] as const;
const FILE_SYSTEM_ALIASES: Aliases = {
  ap: 'accessPoint',
  accessPointSpec: 'accessPoint',
  localMountPath: 'mountPath',
  mount: 'mountPath',
  path: 'mountPath',
  readonly: 'readOnly',
  ro: 'readOnly',
};

const FUNCTION_NAME = /^[A-Za-z0-9_-]+$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Lambda's LocalMountPath pattern; "." and ".." are refused on top, as they would resolve to /mnt or /.
const MOUNT_PATH = /^\/mnt\/[A-Za-z0-9_.-]+$/;
// Lambda's Environment key pattern, [a-zA-Z]([a-zA-Z0-9_])+ : two characters at least.
const ENVIRONMENT_KEY = /^[a-zA-Z][a-zA-Z0-9_]+$/;
const ENTRY_EXTENSION = /\.(?:js|mjs|cjs)$/;
// npm's package name rule (validate-npm-package-name, new packages): lower case, optional scope.
const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const PACKAGE_NAME_MAX_LENGTH = 214;

/**
 * Validates a function declaration (from TypeScript or plain JavaScript) without throwing.
 * @example
 * const result = validateFunction(candidate);
 * if (!result.ok) for (const issue of result.issues) console.error(issue.path, issue.message);
 */
export function validateFunction(spec: unknown): ValidationResult<FunctionDefinition> {
  return collectIssues(subjectOf('Function', spec), (issues) => checkFunction(spec, '', issues));
}

/**
 * Declares a Lambda function: validates it, fills every default and returns it frozen, so infra
 * and the local runtime read the same, complete values.
 * @throws {InvalidSpecError} listing every rule the declaration breaks, e.g.
 *   `Function "message-wall": routes[1] "GET message-wall" is invalid: a route path must start with "/" (example: "GET /message-wall").`
 * @example
 * export const functionDefinition = defineFunction({
 *   name: 'message-wall',
 *   entry: new URL('./handler.js', import.meta.url),
 *   memoryMb: 256,
 *   timeoutSeconds: 10,
 *   routes: ['ANY /message-wall', 'ANY /message-wall/{wall}'],
 *   fileSystem: { accessPoint, mountPath: '/mnt/msg' },
 *   environment: { MESSAGE_WALL_DIR: '/mnt/msg' },
 * });
 */
export function defineFunction(spec: FunctionSpec): FunctionDefinition {
  const result = validateFunction(spec);
  if (!result.ok) throw result.error;
  return result.value;
}

/** Records the problems of `spec` under `base`; returns the frozen definition when there are none. */
export function checkFunction(spec: unknown, base: string, issues: IssueList): FunctionDefinition | undefined {
  const before = issues.length;
  if (!isRecord(spec)) {
    issues.invalid(
      base,
      spec,
      `a function declaration must be an object like { name: 'message-wall', entry: new URL('./handler.js', import.meta.url) }`,
    );
    return undefined;
  }
  checkKnownKeys(spec, FUNCTION_KEYS, base, issues, FUNCTION_ALIASES);
  const at = (key: string): string => childPath(base, key);

  const name = checkName(spec['name'], at('name'), issues);
  const entry = checkEntry(spec['entry'], at('entry'), issues);
  const handlerExport = checkHandlerExport(optional(spec, 'handlerExport'), at('handlerExport'), issues);
  const runtime = checkOneOf(optional(spec, 'runtime'), RUNTIMES, FUNCTION_DEFAULTS.runtime, at('runtime'), issues);
  const architecture = checkOneOf(
    optional(spec, 'architecture'),
    ARCHITECTURES,
    FUNCTION_DEFAULTS.architecture,
    at('architecture'),
    issues,
  );
  const memoryMb = withDefault(optional(spec, 'memoryMb'), FUNCTION_DEFAULTS.memoryMb, (value) =>
    checkInteger(
      value,
      at('memoryMb'),
      LIMITS.memoryMb,
      `memory must be a whole number of MB from ${LIMITS.memoryMb.min} to ${LIMITS.memoryMb.max} (Lambda's limits)`,
      issues,
    ),
  );
  const timeoutSeconds = withDefault(optional(spec, 'timeoutSeconds'), FUNCTION_DEFAULTS.timeoutSeconds, (value) =>
    checkInteger(
      value,
      at('timeoutSeconds'),
      LIMITS.timeoutSeconds,
      `the timeout must be a whole number of seconds from ${LIMITS.timeoutSeconds.min} to ${LIMITS.timeoutSeconds.max} (Lambda's limits)`,
      issues,
    ),
  );
  const routes = checkRoutes(optional(spec, 'routes'), at('routes'), issues);
  const fileSystem = checkFileSystem(optional(spec, 'fileSystem'), at('fileSystem'), issues);
  const environment = checkEnvironment(optional(spec, 'environment'), at('environment'), issues);
  const reservedConcurrency = withDefault(optional(spec, 'reservedConcurrency'), null, (value) =>
    checkInteger(
      value,
      at('reservedConcurrency'),
      { min: 0 },
      'reserved concurrency must be an integer of 0 or more (or null for none)',
      issues,
    ),
  );
  const provisionedConcurrency = withDefault(optional(spec, 'provisionedConcurrency'), null, (value) =>
    checkInteger(
      value,
      at('provisionedConcurrency'),
      { min: 1 },
      'provisioned concurrency must be an integer of 1 or more (or null for none)',
      issues,
    ),
  );
  if (
    typeof reservedConcurrency === 'number' &&
    typeof provisionedConcurrency === 'number' &&
    provisionedConcurrency > reservedConcurrency
  ) {
    issues.invalid(
      at('provisionedConcurrency'),
      provisionedConcurrency,
      `provisioned concurrency must not exceed reservedConcurrency (${reservedConcurrency}); lower it or raise reservedConcurrency`,
    );
  }
  const description = checkDescription(optional(spec, 'description'), at('description'), issues);
  const nativeModules = checkNativeModules(optional(spec, 'nativeModules'), at('nativeModules'), issues);
  if (nativeModules?.from === 'file-system' && fileSystem === null) {
    issues.invalid(
      childPath(at('nativeModules'), 'from'),
      nativeModules.from,
      `native modules on the file system need a fileSystem to load them from; declare fileSystem, or use from: 'package' to ship them in the deployment package`,
    );
  }

  if (
    issues.length > before ||
    name === undefined ||
    entry === undefined ||
    handlerExport === undefined ||
    runtime === undefined ||
    architecture === undefined ||
    memoryMb === undefined ||
    timeoutSeconds === undefined ||
    routes === undefined ||
    fileSystem === undefined ||
    environment === undefined ||
    reservedConcurrency === undefined ||
    provisionedConcurrency === undefined ||
    description === undefined ||
    nativeModules === undefined
  ) {
    return undefined;
  }
  return deepFreeze({
    name,
    entry,
    handlerExport,
    runtime,
    architecture,
    memoryMb,
    timeoutSeconds,
    routes,
    fileSystem,
    environment,
    reservedConcurrency,
    provisionedConcurrency,
    description,
    nativeModules,
  });
}

function withDefault<T, D>(value: unknown, fallback: D, check: (value: unknown) => T | undefined): T | D | undefined {
  return value === undefined ? fallback : check(value);
}

function checkName(value: unknown, path: string, issues: IssueList): string | undefined {
  const rule = `a function name is 1 to ${LIMITS.functionNameMaxLength} characters of letters, digits, "-" and "_" (Lambda's rule; example: "message-wall")`;
  if (value === undefined) {
    issues.missing(path, rule);
    return undefined;
  }
  if (typeof value !== 'string' || !FUNCTION_NAME.test(value) || value.length > LIMITS.functionNameMaxLength) {
    issues.invalid(path, value, rule);
    return undefined;
  }
  return value;
}

function checkEntry(value: unknown, path: string, issues: IssueList): string | undefined {
  const how = `write new URL('./handler.js', import.meta.url) next to the declaration`;
  if (value === undefined) {
    issues.missing(path, `give the compiled handler module: ${how}`);
    return undefined;
  }
  let file: string;
  // "file:..." is a URL; any other "<scheme>:" of 2+ letters too (a single letter is a Windows drive).
  if (value instanceof URL || (typeof value === 'string' && /^[A-Za-z][A-Za-z0-9+.-]+:/.test(value))) {
    let url: URL;
    try {
      url = value instanceof URL ? value : new URL(value);
    } catch {
      issues.invalid(path, value, `this is not a valid URL; ${how}`);
      return undefined;
    }
    if (url.protocol !== 'file:') {
      issues.invalid(path, value, `only file: URLs can name a handler module; ${how}`);
      return undefined;
    }
    try {
      file = fileURLToPath(url);
    } catch (error) {
      issues.invalid(path, value, `${error instanceof Error ? error.message : String(error)}; ${how}`);
      return undefined;
    }
  } else if (typeof value === 'string') {
    if (!isAbsolute(value)) {
      issues.invalid(
        path,
        value,
        `the entry must be an absolute path or a file: URL, because a relative path means something else to infra and to the local runtime; ${how}`,
      );
      return undefined;
    }
    file = value;
  } else {
    issues.invalid(path, value, `the entry must be a URL or a string; ${how}`);
    return undefined;
  }
  file = normalize(file);
  if (!ENTRY_EXTENSION.test(file)) {
    issues.invalid(
      path,
      value,
      `the entry must be a JavaScript module (.js, .mjs or .cjs): point it at the compiled file, e.g. "./handler.js" for src/handler.ts`,
    );
    return undefined;
  }
  return file;
}

function checkHandlerExport(value: unknown, path: string, issues: IssueList): string | undefined {
  if (value === undefined) return FUNCTION_DEFAULTS.handlerExport;
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    issues.invalid(path, value, 'the handler export must be the name of an export of the entry (example: "handler")');
    return undefined;
  }
  return value;
}

function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, path: string, issues: IssueList): T | undefined {
  if (value === undefined) return fallback;
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) {
    issues.invalid(path, value, `must be one of ${allowed.map((candidate) => `"${candidate}"`).join(', ')}`);
  }
  return found;
}

function checkRoutes(value: unknown, path: string, issues: IssueList): readonly RouteKey[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.invalid(path, value, 'routes must be an array of route keys (example: ["GET /message-wall"])');
    return undefined;
  }
  const routes: RouteKey[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  for (const [index, key] of value.entries()) {
    const routePath = childPath(path, index);
    const parsed = checkRouteKey(key);
    if (typeof parsed === 'string') {
      issues.invalid(routePath, key, parsed);
      ok = false;
      continue;
    }
    const identity = routeIdentity(parsed);
    const first = seen.get(identity);
    if (first !== undefined) {
      issues.conflict(
        routePath,
        key,
        `it is the same route as ${childPath(path, first)} ${preview(value[first])} (parameter names do not tell routes apart); remove one`,
      );
      ok = false;
      continue;
    }
    seen.set(identity, index);
    routes.push(parsed.key);
  }
  return ok ? routes : undefined;
}

function checkFileSystem(value: unknown, path: string, issues: IssueList): FileSystemDefinition | null | undefined {
  if (value === undefined) return null;
  if (!isRecord(value)) {
    issues.invalid(path, value, `a file system must be an object like { accessPoint, mountPath: '/mnt/msg' } (or null for none)`);
    return undefined;
  }
  checkKnownKeys(value, FILE_SYSTEM_KEYS, path, issues, FILE_SYSTEM_ALIASES);
  const accessPointPath = childPath(path, 'accessPoint');
  let accessPoint;
  if (value['accessPoint'] === undefined) {
    issues.missing(accessPointPath, 'give the access point to mount (a defineAccessPoint result)');
  } else {
    accessPoint = checkAccessPoint(value['accessPoint'], accessPointPath, issues);
  }
  const mountPath = checkMountPath(value['mountPath'], childPath(path, 'mountPath'), issues);
  let readOnly: boolean | undefined = false;
  const readOnlyValue = optional(value, 'readOnly');
  if (readOnlyValue !== undefined) {
    if (typeof readOnlyValue === 'boolean') readOnly = readOnlyValue;
    else {
      issues.invalid(childPath(path, 'readOnly'), readOnlyValue, 'readOnly must be true or false');
      readOnly = undefined;
    }
  }
  if (accessPoint === undefined || mountPath === undefined || readOnly === undefined) return undefined;
  return { accessPoint, mountPath, readOnly };
}

function checkMountPath(value: unknown, path: string, issues: IssueList): string | undefined {
  const rule = `Lambda mounts file systems one level below /mnt: "/mnt/<name>" with <name> of letters, digits, "-", "_" and "." (example: "/mnt/msg")`;
  if (value === undefined) {
    issues.missing(path, rule);
    return undefined;
  }
  if (typeof value !== 'string' || !MOUNT_PATH.test(value) || /^\/mnt\/\.+$/.test(value)) {
    issues.invalid(path, value, rule);
    return undefined;
  }
  if (value.length > LIMITS.localMountPathMaxLength) {
    issues.invalid(path, value, `Lambda allows at most ${LIMITS.localMountPathMaxLength} characters in a mount path`);
    return undefined;
  }
  return value;
}

function checkEnvironment(value: unknown, path: string, issues: IssueList): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    issues.invalid(path, value, 'the environment must be an object of string values (example: { MODEL_NAME: "demo" })');
    return undefined;
  }
  const before = issues.length;
  const entries: [string, string][] = [];
  for (const key of Object.keys(value)) {
    const keyPath = childPath(path, key);
    const item = value[key];
    if ((RESERVED_ENVIRONMENT_KEYS as readonly string[]).includes(key)) {
      issues.invalid(keyPath, item, `${key} is reserved: Lambda sets it itself and refuses it in the configuration; remove it`);
      continue;
    }
    if (!ENVIRONMENT_KEY.test(key)) {
      issues.invalid(
        keyPath,
        item,
        `an environment variable name is a letter, then at least one letter, digit or "_" (Lambda's rule; example: "MODEL_DIR")`,
      );
      continue;
    }
    if (typeof item !== 'string') {
      issues.invalid(keyPath, item, 'environment values must be strings; write numbers and booleans in quotes');
      continue;
    }
    entries.push([key, item]);
  }
  if (issues.length > before) return undefined;
  // fromEntries defines own properties, so even a "__proto__" key could not touch the prototype.
  const environment = Object.fromEntries(entries);
  const bytes = Buffer.byteLength(JSON.stringify(environment), 'utf8');
  if (bytes > LIMITS.environmentMaxBytes) {
    issues.invalid(
      path,
      value,
      `the environment takes ${bytes} bytes as JSON and Lambda allows ${LIMITS.environmentMaxBytes}; move large values to a file on the file system or to SSM Parameter Store`,
    );
    return undefined;
  }
  return environment;
}

function checkDescription(value: unknown, path: string, issues: IssueList): string | undefined {
  if (value === undefined) return FUNCTION_DEFAULTS.description;
  if (typeof value !== 'string' || value.length > LIMITS.descriptionMaxLength) {
    issues.invalid(path, value, `a description is a string of at most ${LIMITS.descriptionMaxLength} characters`);
    return undefined;
  }
  return value;
}

function checkNativeModules(value: unknown, path: string, issues: IssueList): NativeModulesDefinition | undefined {
  const shape = `native modules are an object like { packages: ['onnxruntime-node', 'sharp'], from: 'package' } (or null for none)`;
  if (value === undefined) return { packages: [], from: 'package' };
  if (!isRecord(value)) {
    issues.invalid(path, value, shape);
    return undefined;
  }
  checkKnownKeys(value, NATIVE_MODULES_KEYS, path, issues, NATIVE_MODULES_ALIASES);
  const before = issues.length;
  const packagesPath = childPath(path, 'packages');
  const packages: string[] = [];
  const list = value['packages'];
  if (list === undefined) {
    issues.missing(packagesPath, `list the npm packages with native addons, e.g. ['onnxruntime-node', 'sharp']`);
  } else if (!Array.isArray(list)) {
    issues.invalid(packagesPath, list, `packages must be an array of npm package names, e.g. ['onnxruntime-node', 'sharp']`);
  } else {
    for (const [index, name] of list.entries()) {
      const itemPath = childPath(packagesPath, index);
      if (typeof name !== 'string' || !PACKAGE_NAME.test(name) || name.length > PACKAGE_NAME_MAX_LENGTH) {
        issues.invalid(
          itemPath,
          name,
          `a package name is what package.json's "name" holds: lower case letters, digits, "-", ".", "_", "~", optionally "@scope/", at most ${PACKAGE_NAME_MAX_LENGTH} characters, no version (example: "sharp")`,
        );
        continue;
      }
      const first = packages.indexOf(name);
      if (first !== -1) {
        issues.conflict(itemPath, name, `it is already listed as ${childPath(packagesPath, first)}; remove one`);
        continue;
      }
      packages.push(name);
    }
  }
  const from = checkOneOf(optional(value, 'from'), NATIVE_MODULE_SOURCES, 'package', childPath(path, 'from'), issues);
  if (issues.length > before || from === undefined) return undefined;
  return { packages, from };
}
