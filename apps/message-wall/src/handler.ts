// The Lambda entry (`dist/handler.js`, export `handler`): the message wall's routes over the wall
// store, handed to @lambda-efs/lambda-http's adapter (method check with Allow, bodies, deadline,
// errors, the request log line). The walls themselves are in core/.
import { httpFunction, textResponse, type HttpHandler, type HttpRequest, type LogSink } from '@lambda-efs/lambda-http';

import { loadConfig, type MessageWallConfig } from './config.js';
import { WallStore } from './core/wall-store.js';
import { messageOf, refuseTail, tailOf, wallOf } from './http.js';

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext } from './http.js';

/** The post's answers, byte for byte. */
export const NO_MESSAGE = 'No message yet.';
export const DELETED = 'Messages deleted.';
/** The post's answer to other methods, byte for byte (what to use is in `Allow`). */
export const METHOD_UNSUPPORTED = 'Method unsupported.';

/** Time kept back from the invocation's deadline so a request that waits for a lock still answers (503). */
export const DEADLINE_MARGIN_MS = 500;

export type Handler = HttpHandler;

export interface HandlerOptions {
  readonly config: MessageWallConfig;
  /** @default lambda-http's function log (JSON lines with Powertools' keys) */
  readonly log?: LogSink;
}

/**
 * Builds the handler over a configuration (tests pass one on a temporary directory).
 * @example
 * const handler = createHandler({ config: loadConfig(process.env) });
 */
export function createHandler(options: HandlerOptions): Handler {
  const { config } = options;
  const store = new WallStore(config);
  const lockOptions = (request: HttpRequest): { lockTimeoutMs?: number } => {
    const budget = request.budgetMs();
    return budget === undefined ? {} : { lockTimeoutMs: budget };
  };
  const tailOption = (tail: number | undefined): { tail?: number } => (tail === undefined ? {} : { tail });

  return httpFunction({
    routes: {
      GET: async (request) => {
        const wall = wallOf(request.event);
        const tail = tailOf(request.event);
        const snapshot = await store.read(wall, tailOption(tail));
        const body = snapshot.text === '' ? NO_MESSAGE : snapshot.text;
        request.annotate({ responseBytes: Buffer.byteLength(body, 'utf8'), ...tailOption(tail) });
        return textResponse(200, body);
      },
      POST: async (request) => {
        const wall = wallOf(request.event);
        const tail = tailOf(request.event);
        const result = await store.post(wall, messageOf(request, config.maxMessageBytes), { ...tailOption(tail), ...lockOptions(request) });
        request.annotate({
          lockWaitMs: result.lockWaitMs,
          messageBytes: result.messageBytes,
          wallBytes: result.wallBytes,
          ...(result.repairedBytes > 0 ? { repairedBytes: result.repairedBytes } : {}),
          ...(result.createdWall ? { createdWall: true } : {}),
        });
        return textResponse(200, result.text);
      },
      DELETE: async (request) => {
        const wall = wallOf(request.event);
        refuseTail(request.event);
        const result = await store.clear(wall, lockOptions(request));
        request.annotate({ lockWaitMs: result.lockWaitMs, existed: result.existed });
        return textResponse(200, DELETED);
      },
    },
    // The wall before the method: 400 for a bad wall id whatever the method.
    checkResource: (event) => ({ wall: wallOf(event) }),
    errorFormat: 'text',
    example: 'curl https://<api>/message-wall',
    methodNotAllowedMessage: () => METHOD_UNSUPPORTED,
    internalMessage: (requestId) =>
      `Internal error: the request failed and nothing was changed. Retry with backoff; if it keeps failing, report request id ${requestId}.`,
    deadlineMarginMs: DEADLINE_MARGIN_MS,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}

/** The function's entry: configured from the environment once, at cold start. */
export const handler: Handler = createHandler({ config: loadConfig(process.env) });
