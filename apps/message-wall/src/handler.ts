// The Lambda entry (`dist/handler.js`, export `handler`): a thin adapter from API Gateway HTTP API
// events to the wall store. It parses the event, calls the core, and maps typed errors to status
// codes; the walls themselves are in core/.
import { loadConfig, type MessageWallConfig } from './config.js';
import { WallStore } from './core/wall-store.js';
import { InternalError, MessageWallError, MethodNotAllowedError } from './errors.js';
import {
  methodOf,
  parseRequest,
  textResponse,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type InvocationContext,
  type WallRequest,
} from './http.js';
import { errorFields, requestIds, since, stdoutLog, type LogSink } from '@lambda-efs/lambda-http';

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext } from './http.js';

/** The post's answers, byte for byte. */
export const NO_MESSAGE = 'No message yet.';
export const DELETED = 'Messages deleted.';

/** Time kept back from the invocation's deadline so a request that waits for a lock still answers (503). */
export const DEADLINE_MARGIN_MS = 500;

export type Handler = (event: HttpApiEventV2 | unknown, context?: InvocationContext) => Promise<HttpApiResultV2>;

export interface HandlerOptions {
  readonly config: MessageWallConfig;
  /** @default one JSON line per entry on stdout */
  readonly log?: LogSink;
}

interface Outcome {
  readonly body: string;
  readonly fields: Record<string, unknown>;
}

/**
 * Builds the handler over a configuration (tests pass one on a temporary directory).
 * @example
 * const handler = createHandler({ config: loadConfig(process.env) });
 */
export function createHandler(options: HandlerOptions): Handler {
  const { config } = options;
  const log = options.log ?? stdoutLog;
  const store = new WallStore(config);

  return async (event, context) => {
    const startedAt = performance.now();
    const ids = requestIds(event, context);
    let method = '-';
    let wall: string | null = '-';
    try {
      method = methodOf(event);
      const request = parseRequest(event, config.maxMessageBytes);
      wall = request.wall;
      const outcome = await serve(store, request, lockBudget(context));
      log({ level: 'INFO', ...ids, message: 'request served', method, wall, status: 200, durationMs: since(startedAt), ...outcome.fields });
      return textResponse(200, outcome.body);
    } catch (thrown) {
      const error = thrown instanceof MessageWallError ? thrown : new InternalError('Unexpected failure', { cause: thrown });
      log({
        level: error.status >= 500 ? 'ERROR' : 'WARN',
        ...ids,
        message: 'request refused',
        method,
        wall,
        status: error.status,
        code: error.code,
        durationMs: since(startedAt),
        ...(error.expose ? { reason: error.message } : { error: errorFields(error) }),
      });
      const body = error.expose
        ? error.message
        : `Internal error: the request failed and nothing was changed. Retry; if it keeps failing, report request id ${ids.requestId}.`;
      return textResponse(error.status, body, error.headers);
    }
  };
}

async function serve(store: WallStore, request: WallRequest, lockTimeoutMs: number | undefined): Promise<Outcome> {
  const lockOptions = lockTimeoutMs === undefined ? {} : { lockTimeoutMs };
  switch (request.method) {
    case 'GET': {
      const wall = await store.read(request.wall, request.tail === undefined ? {} : { tail: request.tail });
      const body = wall.text === '' ? NO_MESSAGE : wall.text;
      return { body, fields: { responseBytes: Buffer.byteLength(body, 'utf8'), ...(request.tail === undefined ? {} : { tail: request.tail }) } };
    }
    case 'POST': {
      const tail = request.tail === undefined ? {} : { tail: request.tail };
      const result = await store.post(request.wall, request.message, { ...tail, ...lockOptions });
      return {
        body: result.text,
        fields: {
          lockWaitMs: result.lockWaitMs,
          messageBytes: result.messageBytes,
          wallBytes: result.wallBytes,
          ...(result.repairedBytes > 0 ? { repairedBytes: result.repairedBytes } : {}),
        },
      };
    }
    case 'DELETE': {
      const result = await store.clear(request.wall, lockOptions);
      return { body: DELETED, fields: { lockWaitMs: result.lockWaitMs, existed: result.existed } };
    }
    case 'OTHER':
      throw new MethodNotAllowedError(request.name);
  }
}

/** How long a lock may be waited for: what is left of the invocation, minus a margin to answer. */
function lockBudget(context: InvocationContext | undefined): number | undefined {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return Math.max(0, Math.floor(remaining - DEADLINE_MARGIN_MS));
}

/** The function's entry: configured from the environment once, at cold start. */
export const handler: Handler = createHandler({ config: loadConfig(process.env) });
