// The Lambda entry (`dist/handler.js`, export `handler`): lambda-http's shared adapter (event check,
// 405 with Allow, errors, the request's log line) over the core (`site.ts`), which answers from
// the page and assets embedded at build time.
import {
  httpFunction,
  stringField,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type HttpRequest,
  type InvocationContext,
  type LogSink,
} from '@lambda-efs/lambda-http';

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
  /** @default lambda-http's function log (JSON lines with Powertools' keys) */
  readonly log?: LogSink;
}

/**
 * Builds the handler over a site (tests pass their own). Every answer, errors included, carries
 * the security headers; a HEAD answer never has a body.
 * @example
 * const handler = createHandler({ site: { page, assets } });
 */
export function createHandler(options: HandlerOptions = {}): Handler {
  const site = options.site ?? { page, assets };
  const route = async (request: HttpRequest): Promise<HttpApiResultV2> => {
    const answer = respond(site, parseRequest(request.event, request.method === 'HEAD' ? 'HEAD' : 'GET'));
    request.annotate({ path: request.event.requestContext?.http?.path ?? '-', gzip: answer.gzip, responseBytes: answer.bodyBytes });
    const result: WebResult = { statusCode: answer.status, headers: answer.headers, body: answer.body, isBase64Encoded: answer.base64 };
    // lambda-http's result type describes text bodies only; API Gateway (and the local runtime)
    // decode a base64 body marked isBase64Encoded: true, which is how the gzip bytes travel.
    return result as unknown as HttpApiResultV2;
  };
  const http = httpFunction({
    routes: { GET: route, HEAD: route },
    errorFormat: 'text',
    example: 'https://<api>/',
    methodNotAllowedMessage: (method) => `Method ${method} is not supported here: the page and its assets answer GET and HEAD.`,
    internalMessage: (requestId) => `Internal error. Retry; if it keeps failing, report request id ${requestId}.`,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  return async (event, context) => {
    const result: WebResult = await http(event, context);
    const head = stringField((event as HttpApiEventV2 | undefined)?.requestContext?.http, 'method') === 'HEAD';
    return { ...result, headers: { ...SECURITY_HEADERS, ...result.headers }, ...(head ? { body: '', isBase64Encoded: false } : {}) };
  };
}

/**
 * The event as a {@link SiteRequest}. The asset's name comes from the `{proxy+}` path parameter
 * (API Gateway has decoded it); any other route is the page.
 */
export function parseRequest(event: HttpApiEventV2, method: 'GET' | 'HEAD'): SiteRequest {
  const proxy = stringField(event.pathParameters, 'proxy');
  const isAssetRoute = proxy !== undefined || (typeof event.routeKey === 'string' && event.routeKey.includes('{proxy+}'));
  return {
    method,
    target: isAssetRoute ? { kind: 'asset', name: proxy ?? '' } : { kind: 'page' },
    acceptEncoding: stringField(event.headers, 'accept-encoding'),
    ifNoneMatch: stringField(event.headers, 'if-none-match'),
  };
}

/** The function's entry, over the site embedded at build time. */
export const handler: Handler = createHandler();
