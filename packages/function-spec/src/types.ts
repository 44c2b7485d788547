import type { Architecture, NativeModuleSource, RouteKey, RouteMethod, Runtime } from './constants.js';
import type { InvalidSpecError, Issue } from './errors.js';

/** A POSIX user and group id pair. */
export interface PosixIds {
  /** User id, an integer from 0 to 4294967295. @example 1001 */
  readonly uid: number;
  /** Group id, an integer from 0 to 4294967295. @example 1001 */
  readonly gid: number;
}

/**
 * What you write to declare an EFS access point. See {@link AccessPointDefinition} for the
 * resolved form.
 * @example
 * defineAccessPoint({ name: 'message', rootPath: '/message', owner: { uid: 1001, gid: 1001 }, permissions: '750' });
 */
export interface AccessPointSpec {
  /**
   * Identifier of the access point, unique in the system: a letter, then letters, digits, `-` or
   * `_`, 64 characters at most. Infra uses it in resource names.
   * @example 'message'
   */
  readonly name: string;
  /**
   * The directory on the file system the access point exposes as its root: absolute, normalized,
   * 1 to 4 levels deep, 100 characters at most, segments of `[A-Za-z0-9._-]` not starting with `.`.
   * `/` is refused: an access point on the root would hand its functions every other access
   * point's files, and locally `./.efs/` would contain all the others.
   * @example '/message'
   */
  readonly rootPath: string;
  /** Owner of `rootPath` when EFS (or the local runtime) creates it. @example { uid: 1001, gid: 1001 } */
  readonly owner: PosixIds;
  /**
   * Mode of `rootPath` when it is created: 3 or 4 octal digits, as a string (a number such as
   * 750 would be read as decimal). A 4-digit value with a leading `0` is stored as 3 digits.
   * @example '750'
   */
  readonly permissions: string;
  /**
   * The identity every file operation through the access point uses (EFS `PosixUser`).
   * @default the `owner`
   */
  readonly posixUser?: PosixIds;
}

/** A validated access point with every default filled in. Frozen. */
export interface AccessPointDefinition {
  readonly name: string;
  readonly rootPath: string;
  readonly owner: PosixIds;
  /** 3 digits, or 4 when the first (setuid/setgid/sticky) digit is not 0. */
  readonly permissions: string;
  readonly posixUser: PosixIds;
}

/** How a function mounts an access point. */
export interface FileSystemSpec {
  /** The access point to mount: a {@link defineAccessPoint} result, or a spec. */
  readonly accessPoint: AccessPointSpec;
  /**
   * Where the function sees the file system: `/mnt/<name>`, one level below `/mnt`, with `<name>`
   * of `[A-Za-z0-9._-]` (Lambda's `LocalMountPath` rule `^/mnt/[a-zA-Z0-9-_.]+$`), 160 characters at most.
   * @example '/mnt/msg'
   */
  readonly mountPath: string;
  /**
   * Mount without write access. Lambda has no read-only mount flag: infra enforces it by granting
   * `elasticfilesystem:ClientMount` without `ClientWrite`.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** A validated file system mount. Frozen. */
export interface FileSystemDefinition {
  readonly accessPoint: AccessPointDefinition;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

/**
 * The npm packages with native addons (`.node` files, shared libraries) that a function loads at
 * run time, and where they come from. esbuild cannot bundle them: infra leaves them out of
 * `handler.mjs` and either ships them in the deployment package or expects them on the file system.
 * @example { packages: ['onnxruntime-node', 'sharp'] }
 * @example { packages: ['onnxruntime-node', 'sharp'], from: 'file-system' }
 */
export interface NativeModulesSpec {
  /**
   * npm package names (as in package.json: lower case, optionally `@scope/`), each once. Their
   * versions are the ones installed in the workspace.
   * @example ['onnxruntime-node', 'sharp']
   */
  readonly packages: readonly string[];
  /**
   * `'package'`: the deployment zip carries `node_modules/<pkg>` (with its runtime dependencies)
   * for the function's architecture only (linux x64 or arm64, glibc). `'file-system'`: the zip
   * leaves them out; they live in a `node_modules` directory on the function's file system
   * (built for {@link nativePlatform} and installed by the provisioner) that the function finds
   * through `NODE_MODULES_DIR`. Needs a `fileSystem`.
   * @default 'package'
   */
  readonly from?: NativeModuleSource;
}

/** A validated {@link NativeModulesSpec}. Frozen. */
export interface NativeModulesDefinition {
  readonly packages: readonly string[];
  readonly from: NativeModuleSource;
}

/**
 * What you write to declare a Lambda function. See {@link FunctionDefinition} for the resolved form.
 * @example
 * export const functionDefinition = defineFunction({
 *   name: 'message-wall',
 *   entry: new URL('./handler.js', import.meta.url),
 *   routes: ['ANY /message-wall', 'ANY /message-wall/{wall}'],
 * });
 */
export interface FunctionSpec {
  /** Lambda function name: 1 to 64 characters of `[A-Za-z0-9_-]`. @example 'message-wall' */
  readonly name: string;
  /**
   * The compiled JavaScript module (`.js`, `.mjs` or `.cjs`) that exports the handler: an
   * absolute path, a `file:` URL string or a `URL`. Relative paths are refused (relative to
   * what?). Write it next to the declaration so it follows the build output.
   * @example new URL('./handler.js', import.meta.url)
   */
  readonly entry: string | URL;
  /**
   * Name of the handler export in `entry`: a JavaScript identifier.
   * @default 'handler'
   */
  readonly handlerExport?: string;
  /** @default 'nodejs22.x' */
  readonly runtime?: Runtime;
  /**
   * @default 'x86_64' (Lambda's default; see {@link FUNCTION_DEFAULTS} for why)
   */
  readonly architecture?: Architecture;
  /** Memory in MB, an integer from 128 to 10240. @default 128 */
  readonly memoryMb?: number;
  /**
   * Timeout in seconds, an integer from 1 to 900. API Gateway gives up on HTTP clients after
   * 30 s (503) whatever this is.
   * @default 3
   */
  readonly timeoutSeconds?: number;
  /**
   * HTTP API route keys served by this function. Routing (which route wins) is the consumer's
   * job; {@link parseRouteKey} gives it the parts.
   * @default []
   * @example ['GET /message-wall', 'ANY /message-wall/{wall}', 'GET /files/{proxy+}', '$default']
   */
  readonly routes?: readonly RouteKey[];
  /**
   * The EFS access point the function mounts (Lambda allows one). `null` or omitted: none.
   * @default null
   */
  readonly fileSystem?: FileSystemSpec | null;
  /**
   * Environment variables. Keys match `^[a-zA-Z][a-zA-Z0-9_]+$` (Lambda's pattern: 2 characters
   * at least) and are not in {@link RESERVED_ENVIRONMENT_KEYS}; the whole set, as JSON, is 4 KB at most.
   * @default {}
   * @example { MESSAGE_WALL_DIR: '/mnt/msg' }
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Reserved concurrency, an integer ≥ 0 (0 throttles every request). It also caps the
   * function's EFS connections: one per execution environment. `null` or omitted: unreserved.
   * @default null
   */
  readonly reservedConcurrency?: number | null;
  /**
   * Provisioned concurrency, an integer ≥ 1 and ≤ `reservedConcurrency` when both are set.
   * `null` or omitted: none.
   * @default null
   */
  readonly provisionedConcurrency?: number | null;
  /** Lambda description, 256 characters at most. @default '' */
  readonly description?: string;
  /**
   * Native modules the handler loads at run time, and where they come from. `null` or omitted:
   * none (every import is bundled or a Node.js built-in).
   * @default { packages: [], from: 'package' }
   */
  readonly nativeModules?: NativeModulesSpec | null;
}

/**
 * A validated function with every default filled in, frozen: consumers read it as is and never
 * apply defaults themselves. Passing it to `defineFunction` again gives an equal definition.
 */
export interface FunctionDefinition {
  readonly name: string;
  /** Absolute, normalized file system path of the handler module. */
  readonly entry: string;
  readonly handlerExport: string;
  readonly runtime: Runtime;
  readonly architecture: Architecture;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly routes: readonly RouteKey[];
  readonly fileSystem: FileSystemDefinition | null;
  readonly environment: Readonly<Record<string, string>>;
  readonly reservedConcurrency: number | null;
  readonly provisionedConcurrency: number | null;
  readonly description: string;
  readonly nativeModules: NativeModulesDefinition;
}

/** One segment of a route path. */
export type RouteSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  /** `{name+}`: one or more remaining segments; always the last segment. */
  | { readonly kind: 'greedy'; readonly name: string };

/** A parsed `"<METHOD> <path>"` route key. */
export interface ParsedRoute {
  readonly kind: 'route';
  readonly key: RouteKey;
  readonly method: RouteMethod;
  /** @example '/message-wall/{wall}' */
  readonly path: string;
  /** Path segments; `[]` for `/`. */
  readonly segments: readonly RouteSegment[];
  /** Path parameter names in order, greedy one included. @example ['wall'] */
  readonly params: readonly string[];
}

/** The `$default` route: matches any method and path no other route matches. */
export interface ParsedDefaultRoute {
  readonly kind: 'default';
  readonly key: '$default';
  readonly method: 'ANY';
  readonly path: null;
  readonly segments: readonly [];
  readonly params: readonly [];
}

export type ParsedRouteKey = ParsedRoute | ParsedDefaultRoute;

/** A route of the system and the function that serves it. */
export interface SystemRoute {
  readonly routeKey: RouteKey;
  readonly route: ParsedRouteKey;
  readonly functionName: string;
}

/** A validated set of functions, with what both consumers derive from it. Frozen. */
export interface SystemDefinition {
  readonly functions: readonly FunctionDefinition[];
  /** Every access point once (by name), in order of first use. */
  readonly accessPoints: readonly AccessPointDefinition[];
  /** Every route of every function, in declaration order. */
  readonly routes: readonly SystemRoute[];
}

/** The outcome of a `validate*` call: never throws for bad input. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      /** All problems; the same as `error.issues`. */
      readonly issues: readonly Issue[];
      /** Ready to throw. */
      readonly error: InvalidSpecError;
    };
