import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { FunctionDefinition } from '@lambda-efs/function-spec';

import { loadDeclarations } from './declarations.js';
import { AccessPointDirectories } from './efs/access-points.js';
import { watchCode } from './environments/code-watcher.js';
import { environmentSpec } from './environments/lambda-environment.js';
import { FunctionPool } from './environments/pool.js';
import { ListenError } from './errors.js';
import { LOCAL_ACCOUNT_ID } from './http/event.js';
import { Router } from './http/router.js';
import { createHttpFront } from './http/server.js';
import { FunctionLogger, processLogSink, RuntimeNotes } from './logs/logger.js';
import { resolveOptions, type LocalApiOptions } from './options.js';

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
  const { system, accessPoints } = loadDeclarations(options.functions, options.accessPoints);
  const sink = settings.logSink ?? processLogSink;
  const notes = new RuntimeNotes(sink);
  const efs = new AccessPointDirectories(settings.efsRoot, notes);
  await efs.prepare(accessPoints);

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
        prepare: async () =>
          environmentSpec(definition, {
            region: settings.region,
            accountId: LOCAL_ACCOUNT_ID,
            logFormat: settings.logFormat,
            mountDir: accessPoint === undefined ? undefined : await efs.ensure(accessPoint),
            user: await efs.userFor(accessPoint, definition.entry),
          }),
      }),
    );
  }

  const stopWatching = settings.watch
    ? system.functions.map((definition) =>
        watchCode(definition.entry, () => {
          const pool = pools.get(definition.name);
          if (pool === undefined) return;
          notes.note(`${definition.name}: code changed — its environments are recycled (new ones start on the next requests).`);
          pool.recycle();
        }),
      )
    : [];
  const reaper = setInterval(
    () => {
      const now = Date.now();
      for (const pool of pools.values()) pool.reapIdle(now, settings.idleTimeoutMs);
    },
    Math.max(50, Math.min(settings.idleTimeoutMs / 2, 30_000)),
  );
  reaper.unref();

  const server = createHttpFront({
    router: new Router(system.routes),
    // The router only returns functions of the system, so the pool exists.
    invoke: (functionName, event, traceId) => (pools.get(functionName) as FunctionPool).invoke(event, traceId),
    integrationTimeoutMs: settings.integrationTimeoutMs,
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
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.all([...pools.values()].map((pool) => pool.close()));
    if (server.listening) await closed;
  };

  try {
    await listen(server, settings.port, settings.host);
  } catch (error) {
    await stopAll();
    throw new ListenError(settings.host, settings.port, error as NodeJS.ErrnoException);
  }
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    routes: system.routes.map(({ routeKey, functionName }) => ({ routeKey, functionName })),
    functions: system.functions,
    efsRoot: efs.efsRoot,
    environmentPids: (functionName) =>
      [...pools.entries()].flatMap(([name, pool]) => (functionName === undefined || name === functionName ? pool.pids : [])),
    close: () => (closing ??= stopAll()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
