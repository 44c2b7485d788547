import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

import type { FunctionDefinition } from '@lambda-efs/function-spec';

import { loadDeclarations } from './declarations.js';
import { AccessPointDirectories } from './efs/access-points.js';
import { watchCode } from './environments/code-watcher.js';
import { environmentSpec } from './environments/lambda-environment.js';
import { FunctionPool, type InvokeOptions } from './environments/pool.js';
import { InvalidOptionError, ListenError } from './errors.js';
import { LOCAL_ACCOUNT_ID } from './http/event.js';
import { Router } from './http/router.js';
import { createHttpFront } from './http/server.js';
import { createInvokeFront, type InvokeFront } from './invoke/server.js';
import { FunctionLogger, processLogSink, RuntimeNotes } from './logs/logger.js';
import { resolveOptions, type LocalApiOptions } from './options.js';
import { TaskDirectories, type TaskDirectory } from './packages/task-directories.js';

/** A route served, and the function behind it. */
export interface ServedRoute {
  /** @example 'ANY /message-wall/{wall}' */
  readonly routeKey: string;
  readonly functionName: string;
}

/** A running local API. */
export interface LocalApi {
  /** Base URL without a trailing slash. @example 'http://127.0.0.1:3000' */
  readonly url: string;
  /** The port bound (the one picked when `port: 0`). */
  readonly port: number;
  /**
   * Base URL of Lambda's Invoke API (the `--endpoint-url` of `aws lambda invoke`, the `endpoint`
   * of a LambdaClient), without a trailing slash; `undefined` when `invokePort` was not given.
   * @example 'http://127.0.0.1:3001'
   */
  readonly invokeUrl: string | undefined;
  /** Where each function served from a deployment package was extracted, by function name. */
  readonly taskDirectories: ReadonlyMap<string, string>;
  /** Every route, most specific first per function as declared. */
  readonly routes: readonly ServedRoute[];
  /** The validated function definitions served. */
  readonly functions: readonly FunctionDefinition[];
  /** The absolute directory standing in for EFS. */
  readonly efsRoot: string;
  /**
   * Process ids of the execution environments alive now, of one function or all. For tests:
   * "N concurrent requests made N environments", "close() left none".
   */
  environmentPids(functionName?: string): number[];
  /** Stops the server and ends every execution environment; resolves once all have exited. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the system on this machine: an API Gateway HTTP API (payload format 2.0) on
 * `host:port`, serving each function's routes from Lambda execution environments (one child
 * process each, started on demand up to the reserved concurrency), with each access point a
 * directory `<efsRoot><rootPath>`. Declarations are validated first; nothing is served unless
 * all are valid and every handler is built.
 *
 * @throws {InvalidDeclarationError} a declaration breaks a rule (each problem named with its function and field)
 * @throws {MissingEntryError} a function's `entry` module does not exist (not built)
 * @throws {InvalidOptionError} an option is invalid (a non-loopback host without `allowRemote`…)
 * @throws {AccessPointDirectoryError} the EFS root cannot be created, or an access point's user cannot reach it
 * @throws {InvalidPackageError} a deployment package (`packages`) is missing, unsafe, corrupt or has no handler.mjs
 * @throws {ListenError} the port is taken or cannot be bound
 * @example
 * import { functionDefinition, accessPoint } from '@lambda-efs/message-wall/function';
 * const api = await startLocalApi({ functions: [functionDefinition], accessPoints: [accessPoint], efsRoot: dir, port: 0 });
 * try {
 *   const response = await fetch(`${api.url}/message-wall`);
 * } finally {
 *   await api.close();
 * }
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const settings = resolveOptions(options);
  // Checked first: a package named for a function not passed is a mistake whatever else is wrong.
  const names = Array.isArray(options.functions) ? options.functions.map((spec) => (spec as { name?: unknown } | null)?.name) : [];
  const unknown = [...settings.packages.keys()].filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new InvalidOptionError(
      'packages',
      `${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among the functions passed ` +
        `(${names.join(', ')}): pass its declaration too, or leave its package out`,
    );
  }
  const { system, accessPoints } = loadDeclarations(options.functions, options.accessPoints, new Set(settings.packages.keys()));
  const sink = settings.logSink ?? processLogSink;
  const notes = new RuntimeNotes(sink);
  const efs = new AccessPointDirectories(settings.efsRoot, notes);
  await efs.prepare(accessPoints);

  // Every package is checked and extracted before anything is served: a bad zip fails the start.
  const tasks = new TaskDirectories();
  const extracted = new Map<string, TaskDirectory>();
  for (const [name, zipPath] of settings.packages) {
    const task = await tasks.prepare(name, zipPath);
    extracted.set(name, task);
    const architecture = system.functions.find((definition) => definition.name === name)?.architecture;
    const declared = architecture === 'x86_64' ? 'x64' : architecture;
    if (task.nativeAddons.length > 0 && declared !== process.arch) {
      notes.note(
        `${name}: its package holds native addons built for ${architecture ?? 'its declared architecture'} (${task.nativeAddons[0] ?? ''}…), ` +
          `and this machine is ${process.arch}: they will fail to load here. Serve its built entry instead, or bundle it for ${process.arch}.`,
      );
    }
  }
  if (settings.invokePort === undefined) {
    const unrouted = system.functions.filter((definition) => definition.routes.length === 0).map((definition) => definition.name);
    if (unrouted.length > 0) {
      notes.note(
        `${unrouted.join(', ')}: no routes and no Invoke API (invokePort, --invoke-port): nothing can invoke ${unrouted.length === 1 ? 'it' : 'them'}.`,
      );
    }
  }

  const pools = new Map<string, FunctionPool>();
  for (const definition of system.functions) {
    const accessPoint = definition.fileSystem?.accessPoint;
    pools.set(
      definition.name,
      new FunctionPool({
        definition,
        maxEnvironments: definition.reservedConcurrency ?? settings.defaultConcurrency,
        freeze: settings.freeze,
        logger: new FunctionLogger(definition.name, settings.logFormat, sink),
        notes,
        prepare: async () => {
          const zipPath = settings.packages.get(definition.name);
          // A zip rebuilt since the last start is extracted again (a stat when it is not).
          const task = zipPath === undefined ? undefined : await tasks.prepare(definition.name, zipPath);
          if (task !== undefined) extracted.set(definition.name, task);
          return environmentSpec(definition, {
            region: settings.region,
            accountId: LOCAL_ACCOUNT_ID,
            logFormat: settings.logFormat,
            mountDir: accessPoint === undefined ? undefined : await efs.ensure(accessPoint),
            user: await efs.userFor(accessPoint, task?.entry ?? definition.entry),
            task,
            credentials: settings.credentials,
          });
        },
      }),
    );
  }

  const stopWatching = settings.watch
    ? system.functions.map((definition) => {
        const zipPath = settings.packages.get(definition.name);
        const recycle = (): void => {
          const pool = pools.get(definition.name);
          if (pool === undefined) return;
          notes.note(
            `${definition.name}: ${zipPath === undefined ? 'code' : 'deployment package'} changed — its environments are recycled (new ones start on the next requests).`,
          );
          pool.recycle();
        };
        return zipPath === undefined
          ? watchCode(definition.entry, recycle)
          : watchCode(zipPath, recycle, { matches: (filename) => filename === basename(zipPath) });
      })
    : [];
  const reaper = setInterval(
    () => {
      const now = Date.now();
      for (const pool of pools.values()) pool.reapIdle(now, settings.idleTimeoutMs);
    },
    Math.max(50, Math.min(settings.idleTimeoutMs / 2, 30_000)),
  );
  reaper.unref();

  // The fronts only name functions of the system, so the pool exists.
  const invoke = (functionName: string, event: unknown, traceId: string, invokeOptions?: InvokeOptions) =>
    (pools.get(functionName) as FunctionPool).invoke(event, traceId, invokeOptions);
  const server = createHttpFront({
    router: new Router(system.routes),
    invoke,
    integrationTimeoutMs: settings.integrationTimeoutMs,
    notes,
  });
  const invokeFront: InvokeFront | undefined =
    settings.invokePort === undefined
      ? undefined
      : createInvokeFront({
          functionNames: new Set(pools.keys()),
          invoke,
          region: settings.region,
          accountId: LOCAL_ACCOUNT_ID,
          notes,
        });

  // A frozen environment cannot see its IPC channel close: if the runtime exits without
  // close() (an uncaught exception, process.exit), end the environments on the way out.
  const killOnExit = (): void => {
    for (const pool of pools.values()) pool.killNow();
  };
  process.on('exit', killOnExit);

  const stopAll = async (): Promise<void> => {
    process.off('exit', killOnExit);
    clearInterval(reaper);
    for (const stop of stopWatching) stop();
    const servers = [server, ...(invokeFront === undefined ? [] : [invokeFront.server])];
    const closed = servers.map((each) =>
      each.listening ? new Promise<void>((resolve) => each.close(() => resolve())) : Promise.resolve(),
    );
    for (const each of servers) each.closeAllConnections();
    // Throttled Event invocations stop retrying; running ones end with their environments.
    const drained = invokeFront?.drain();
    await Promise.all([...pools.values()].map((pool) => pool.close()));
    await drained;
    await Promise.all(closed);
  };

  for (const [front, port] of [
    [server, settings.port],
    [invokeFront?.server, settings.invokePort],
  ] as const) {
    if (front === undefined || port === undefined) continue;
    try {
      await listen(front, port, settings.host);
    } catch (error) {
      await stopAll();
      throw new ListenError(settings.host, port, error as NodeJS.ErrnoException);
    }
  }
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const invokeAddress = invokeFront?.server.address() as AddressInfo | undefined;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    invokeUrl: invokeAddress === undefined ? undefined : `http://${host}:${invokeAddress.port}`,
    get taskDirectories() {
      return new Map([...extracted].map(([name, task]) => [name, task.dir]));
    },
    routes: system.routes.map(({ routeKey, functionName }) => ({ routeKey, functionName })),
    functions: system.functions,
    efsRoot: efs.efsRoot,
    environmentPids: (functionName) =>
      [...pools.entries()].flatMap(([name, pool]) => (functionName === undefined || name === functionName ? pool.pids : [])),
    close: () => (closing ??= stopAll()),
  };
}

/**
 * How long an idle client connection stays open. Node's default (5 s) is shorter than the time
 * clients keep idle connections for reuse (the AWS SDK's agent: until the server closes them):
 * a request sent just as the server closes one fails with ECONNRESET or "socket hang up", and on
 * a busy machine the client sees the close late. Longer, the client closes or reuses it first.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function listen(server: Server, port: number, host: string): Promise<void> {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
