// The Lambda entry (`dist/handler.js`, export `handler`): a thin adapter from API Gateway HTTP API
// events to the core (`site.ts`), which answers from the page and assets embedded at build time.
import {
  errorFields,
  httpMethodOf,
  requestIds,
  since,
  stdoutLog,
  stringField,
  type HttpApiEventV2,
  type InvocationContext,
  type LogSink,
} from '@lambda-efs/lambda-http';

import { InternalError, MethodNotAllowedError, NotHttpEventError, WebError } from './errors.js';
import { respond, SECURITY_HEADERS, type Site, type SiteRequest } from './site.js';
import { assets, page } from './site-assets.js';

export type { HttpApiEventV2, InvocationContext };

/**
 * A payload 2.0 response. Unlike the other functions' text answers, the page and its assets may go
 * out gzip-compressed, so `isBase64Encoded` can be true.
 */
export interface WebResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

export type Handler = (event: HttpApiEventV2 | unknown, context?: InvocationContext) => Promise<WebResult>;

export interface HandlerOptions {
  /** The page and its assets. @default the ones embedded at build time */
  readonly site?: Site;
  /** @default one JSON line per entry on stdout */
  readonly log?: LogSink;
}

/**
 * Builds the handler over a site (tests pass their own).
 * @example
 * const handler = createHandler({ site: { page, assets } });
 */
export function createHandler(options: HandlerOptions = {}): Handler {
  const site = options.site ?? { page, assets };
  const log = options.log ?? stdoutLog;
  return async (event, context) => {
    const startedAt = performance.now();
    const ids = requestIds(event, context);
    let method = '-';
    const path = stringField((event as HttpApiEventV2 | undefined)?.requestContext?.http, 'path') ?? '-';
    try {
      const request = parseRequest(event);
      method = request.method;
      const answer = respond(site, request);
      log({
        level: 'INFO',
        ...ids,
        message: 'request served',
        method,
        path,
        status: answer.status,
        gzip: answer.gzip,
        responseBytes: answer.bodyBytes,
        durationMs: since(startedAt),
      });
      return { statusCode: answer.status, headers: answer.headers, body: answer.body, isBase64Encoded: answer.base64 };
    } catch (thrown) {
      const error = thrown instanceof WebError ? thrown : new InternalError('Unexpected failure', { cause: thrown });
      method = httpMethodOf(event) ?? method;
      log({
        level: error.status >= 500 ? 'ERROR' : 'WARN',
        ...ids,
        message: 'request refused',
        method,
        path,
        status: error.status,
        code: error.code,
        durationMs: since(startedAt),
        ...(error.expose ? { reason: error.message } : { error: errorFields(error) }),
      });
      const message = error.expose ? error.message : `Internal error. Retry; if it keeps failing, report request id ${ids.requestId}.`;
      return {
        statusCode: error.status,
        headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...error.headers },
        body: method === 'HEAD' ? '' : message,
        isBase64Encoded: false,
      };
    }
  };
}

/**
 * The event as a {@link SiteRequest}. The asset's name comes from the `{proxy+}` path parameter
 * (API Gateway has decoded it); any other route is the page.
 */
export function parseRequest(event: unknown): SiteRequest {
  const method = httpMethodOf(event);
  if (method === undefined) throw new NotHttpEventError();
  if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(method);
  const http = event as HttpApiEventV2;
  const proxy = stringField(http.pathParameters, 'proxy');
  const isAssetRoute = proxy !== undefined || (typeof http.routeKey === 'string' && http.routeKey.includes('{proxy+}'));
  return {
    method,
    target: isAssetRoute ? { kind: 'asset', name: proxy ?? '' } : { kind: 'page' },
    acceptEncoding: stringField(http.headers, 'accept-encoding'),
    ifNoneMatch: stringField(http.headers, 'if-none-match'),
  };
}

/** The function's entry, over the site embedded at build time. */
export const handler: Handler = createHandler();
