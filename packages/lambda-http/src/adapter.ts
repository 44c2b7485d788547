// The one HTTP adapter of every function (middy's http-event-normalizer + http-error-handler idea,
// in a few dozen lines): a function hands it routes (method → core call); the adapter checks the
// event and the method (405 with Allow), decodes bodies, gives the deadline budget, maps errors to
// responses and writes the one log line of each request.
import { bodyBytes, bodyText, type TooLarge } from './body.js';
import { FunctionError, InternalError, MethodNotAllowedError, NotHttpEventError } from './errors.js';
import { httpMethodOf, requestIds, type HttpApiEventV2, type HttpApiResultV2, type InvocationContext } from './event.js';
import { addLogContext, errorFields, functionLog, since, type LogSink } from './log.js';

/** What a route gets: the event, and what every function needs from it. */
export interface HttpRequest {
  readonly event: HttpApiEventV2;
  readonly method: string;
  /** Lambda's request id (API Gateway's when there is no Lambda context). */
  readonly requestId: string;
  /**
   * Milliseconds left before the invocation's deadline, minus the adapter's margin (never
   * negative); undefined without a Lambda context. Waits and fetches use at most this, so the
   * function always answers before Lambda stops it.
   */
  budgetMs(): number | undefined;
  /** The body as bytes (see body.ts); `tooLarge` builds the function's own 413. */
  bytes(maxBytes: number, tooLarge: TooLarge): Buffer;
  /** The body as text, never altered (see body.ts). */
  text(maxBytes: number, tooLarge: TooLarge): string;
  /** Adds fields to the request's log line, served or refused. */
  annotate(fields: Readonly<Record<string, unknown>>): void;
}

/** A route: the core call for one method. It returns the response or throws a {@link FunctionError}. */
export type Route = (request: HttpRequest) => Promise<HttpApiResultV2>;

export interface HttpFunctionOptions {
  /** Method → route. Other methods get 405 with these in `Allow`, in this order. */
  readonly routes: Readonly<Record<string, Route>>;
  /** How error answers look: the message as text, or `{"error":{"code","message"}}`. */
  readonly errorFormat: 'text' | 'json';
  /** Shown in the 400 for a non-HTTP event: how to call the function. @example 'curl https://<api>/message-wall' */
  readonly example: string;
  /**
   * Checks of the resource that come before the method check (a client fixes the URL first), such
   * as a path parameter; what it returns goes into the log line.
   */
  readonly checkResource?: (event: HttpApiEventV2) => Readonly<Record<string, unknown>> | undefined;
  /** The 405's message. @default 'Method X is not supported: use GET or POST.' */
  readonly methodNotAllowedMessage?: (method: string, allowed: readonly string[]) => string;
  /** The 500's message for errors not shown; it should tell to retry and give the id. */
  readonly internalMessage?: (requestId: string) => string;
  /** Time kept back from the deadline to answer in. @default 500 */
  readonly deadlineMarginMs?: number;
  /** @default {@link functionLog} (JSON lines with Powertools' keys and the invocation's context) */
  readonly log?: LogSink;
}

/** A Lambda handler of HTTP API (payload 2.0) events. */
export type HttpHandler = (event: HttpApiEventV2 | unknown, context?: InvocationContext) => Promise<HttpApiResultV2>;

/**
 * Builds a function's handler from its routes.
 * @example
 * export const handler = httpFunction({
 *   routes: { GET: async () => textResponse(200, 'hello') },
 *   errorFormat: 'text',
 *   example: 'curl https://<api>/hello',
 * });
 */
export function httpFunction(options: HttpFunctionOptions): HttpHandler {
  const allowed = Object.keys(options.routes);
  const log = options.log ?? functionLog;
  const margin = options.deadlineMarginMs ?? 500;

  return async (event, context) => {
    const startedAt = performance.now();
    if (options.log === undefined) addLogContext(context);
    const ids = requestIds(event, context);
    const fields: Record<string, unknown> = {};
    let method = '-';
    try {
      const found = httpMethodOf(event);
      if (found === undefined) throw new NotHttpEventError(options.example);
      method = found;
      const http = event as HttpApiEventV2;
      Object.assign(fields, options.checkResource?.(http));
      const route = Object.hasOwn(options.routes, method) ? options.routes[method] : undefined;
      if (route === undefined) throw new MethodNotAllowedError(method, allowed, options.methodNotAllowedMessage?.(method, allowed));
      const result = await route({
        event: http,
        method,
        requestId: ids.requestId,
        budgetMs: () => budget(context, margin),
        bytes: (maxBytes, tooLarge) => bodyBytes(http, maxBytes, tooLarge),
        text: (maxBytes, tooLarge) => bodyText(http, maxBytes, tooLarge),
        annotate: (more) => Object.assign(fields, more),
      });
      log({ level: 'INFO', ...ids, message: 'request served', method, status: result.statusCode, durationMs: since(startedAt), ...fields });
      return result;
    } catch (thrown) {
      const error = thrown instanceof FunctionError ? thrown : new InternalError('Unexpected failure', { cause: thrown });
      log({
        level: error.logLevel,
        ...ids,
        message: 'request refused',
        method,
        status: error.status,
        code: error.code,
        durationMs: since(startedAt),
        ...fields,
        ...(error.expose ? { reason: error.message } : { error: errorFields(error) }),
      });
      const message = error.expose
        ? error.message
        : (options.internalMessage?.(ids.requestId) ??
          `Internal error: the request failed. Retry with backoff; if it keeps failing, report request id ${ids.requestId}.`);
      return options.errorFormat === 'text'
        ? textResponse(error.status, message, error.headers)
        : jsonResponse(error.status, { error: { code: error.code, message } }, error.headers);
    }
  };
}

/** What is left of the invocation minus `marginMs`, or undefined without a Lambda context. */
export function budget(context: InvocationContext | undefined, marginMs: number): number | undefined {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return Math.max(0, Math.floor(remaining - marginMs));
}

/** A `text/plain; charset=utf-8` response, not cached. */
export function textResponse(statusCode: number, body: string, headers: Readonly<Record<string, string>> = {}): HttpApiResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body,
    isBase64Encoded: false,
  };
}

/** An `application/json; charset=utf-8` response, not cached. */
export function jsonResponse(statusCode: number, value: unknown, headers: Readonly<Record<string, string>> = {}): HttpApiResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
    isBase64Encoded: false,
  };
}
