import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import type { PoolOutcome } from '../environments/pool.js';
import { PLATFORM_LIMITS } from '../limits.js';
import type { RuntimeNotes } from '../logs/logger.js';
import { buildEvent, newApiRequestId, newTraceId } from './event.js';
import type { HttpApiEvent } from './payload.js';
import { GATEWAY_RESPONSES, mapResult, type HttpResponse } from './response.js';
import type { Router } from './router.js';

/** What the HTTP front needs from the rest of the runtime. */
export interface HttpFrontSettings {
  readonly router: Router;
  /** Runs one invocation of the named function with the event as JSON text. Never rejects. */
  readonly invoke: (functionName: string, event: HttpApiEvent, traceId: string) => Promise<PoolOutcome>;
  readonly integrationTimeoutMs: number;
  readonly notes: RuntimeNotes;
}

const EMPTY = Buffer.alloc(0);
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);
// Node's own header limit is set above API Gateway's so that the exact 10,240-byte rule (request
// line included, which Node does not count) is applied here; Node's 431 is a backstop past 64 KiB.
const NODE_MAX_HEADER_SIZE = 64 * 1024;

/**
 * The HTTP API front: route, limits, payload 2.0 event, invocation, response mapping, and API
 * Gateway's own answers (404, 413, 431, 500, 503) where API Gateway gives them.
 */
export function createHttpFront(settings: HttpFrontSettings): Server {
  // The request still being handled on each connection. Node parses pipelined requests as they
  // come: each one waits for the one before it on its connection, so that a GET sees the POST
  // sent before it and a POST is not overtaken by an earlier DELETE.
  const inFlight = new WeakMap<Socket, Promise<void>>();
  const server = createServer({ maxHeaderSize: NODE_MAX_HEADER_SIZE }, (request, response) => {
    const socket = request.socket;
    const run = (): Promise<void> =>
      handle(settings, request, response).catch((error: unknown) => {
        settings.notes.note(`request failed inside the runtime: ${(error as Error).stack ?? String(error)}`);
        if (!response.headersSent) send(response, newApiRequestId(), GATEWAY_RESPONSES.internalServerError, true);
      });
    const previous = inFlight.get(socket);
    const current = previous === undefined ? run() : previous.then(run);
    inFlight.set(socket, current);
    void current.then(() => {
      if (inFlight.get(socket) === current) inFlight.delete(socket);
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const answer = error.code === 'HPE_HEADER_OVERFLOW' ? GATEWAY_RESPONSES.headersTooLarge : undefined;
    if (answer === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.end(
      `HTTP/1.1 ${answer.statusCode} Request Header Fields Too Large\r\ncontent-type: application/json\r\n` +
        `content-length: ${answer.body.length}\r\nconnection: close\r\n\r\n${answer.body.toString()}`,
    );
  });
  return server;
}

async function handle(settings: HttpFrontSettings, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const timeEpoch = Date.now();
  const requestId = newApiRequestId();
  if (requestHeaderBytes(request) > PLATFORM_LIMITS.requestHeaderMaxBytes) {
    send(response, requestId, GATEWAY_RESPONSES.headersTooLarge, true);
    return;
  }
  const url = request.url ?? '/';
  const question = url.indexOf('?');
  const method = request.method ?? 'GET';
  const match = settings.router.match(method, question === -1 ? url : url.slice(0, question));
  // An unknown route takes no body. The refusal goes out at once and the body is drained behind
  // it, unless the connection closes after the answer (Node would close it before the client has
  // sent its body, and a client that writes before reading would get EPIPE): then after the drain.
  const refusal = match === undefined ? GATEWAY_RESPONSES.notFound : GATEWAY_RESPONSES.requestTooLarge;
  const early = !closesAfterAnswer(request);
  const read = await readRequestBody(request, match === undefined ? 0 : PLATFORM_LIMITS.requestBodyMaxBytes, () => {
    if (early) send(response, requestId, refusal);
  });
  if (read.kind === 'aborted') {
    // The client's doing, not the runtime's: a short note (none if it had its answer already).
    if (!response.headersSent) {
      settings.notes.note(
        `${method} ${url.slice(0, 200)}: the client closed the connection before the end of the body; nothing was invoked.`,
      );
    }
    return;
  }
  if (match === undefined || read.kind === 'tooLarge') {
    if (read.kind === 'tooLarge' && !read.drained) {
      // Too much to drain: answer (if not yet) and close the connection.
      if (response.headersSent) request.socket.destroy();
      else send(response, requestId, refusal, true);
    } else {
      send(response, requestId, refusal);
    }
    return;
  }
  const body = read.body;
  const socket = request.socket;
  const traceId = newTraceId(timeEpoch);
  const event = buildEvent(
    {
      method,
      url,
      httpVersion: request.httpVersion,
      rawHeaders: request.rawHeaders,
      body,
      sourceIp: (socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      localPort: socket.localPort ?? 0,
      requestId,
      timeEpoch,
      traceId,
    },
    match,
  );
  if (invokePayloadBytes(event, body.length, request.rawHeaders) > PLATFORM_LIMITS.invokePayloadMaxBytes) {
    send(response, requestId, GATEWAY_RESPONSES.invokePayloadTooLarge);
    return;
  }

  // API Gateway stops waiting after 30 s; the invocation itself runs on to the function timeout.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    send(response, requestId, GATEWAY_RESPONSES.serviceUnavailable);
  }, settings.integrationTimeoutMs);
  const outcome = await settings.invoke(match.functionName, event, traceId);
  clearTimeout(timer);
  if (timedOut) return;

  if (outcome.kind !== 'result') {
    send(response, requestId, GATEWAY_RESPONSES.internalServerError);
    return;
  }
  const mapped = mapResult(outcome.result);
  if ('malformed' in mapped) {
    settings.notes.note(`${match.functionName}: malformed result (${mapped.malformed}); the client gets 500, as from API Gateway.`);
    send(response, requestId, GATEWAY_RESPONSES.internalServerError);
    return;
  }
  send(response, requestId, mapped);
}

/**
 * The event's size as Lambda measures it (its JSON), computed only when it could matter: JSON
 * escaping at most sextuples a character, so a small request is under 6 MB without measuring.
 */
function invokePayloadBytes(event: HttpApiEvent, bodyBytes: number, rawHeaders: readonly string[]): number {
  let headerChars = 0;
  for (const part of rawHeaders) headerChars += part.length;
  const bound = 6 * (bodyBytes * (4 / 3) + headerChars) + 64 * 1024;
  if (bound <= PLATFORM_LIMITS.invokePayloadMaxBytes) return 0;
  return Buffer.byteLength(JSON.stringify(event));
}

/** Request line and header lines, CRLFs included: what API Gateway's 10,240-byte limit counts. */
export function requestHeaderBytes(request: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): number {
  // Node decodes header bytes as latin1, so string length is byte length.
  let bytes = (request.method ?? '').length + 1 + (request.url ?? '').length + ' HTTP/'.length + request.httpVersion.length + 2;
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    bytes += (raw[index] ?? '').length + 2 + (raw[index + 1] ?? '').length + 2;
  }
  return bytes;
}

/** Whether the client asked for the connection to close after this answer. */
export function closesAfterAnswer(request: IncomingMessage): boolean {
  const connection = request.headers.connection ?? '';
  return request.httpVersion === '1.0' ? !/keep-alive/i.test(connection) : /\bclose\b/i.test(connection);
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** What reading a request's body gave. */
export type BodyOutcome =
  | { readonly kind: 'body'; readonly body: Buffer }
  /** Over the limit; `drained` when the rest was read and dropped, so the connection can go on. */
  | { readonly kind: 'tooLarge'; readonly drained: boolean }
  /** The client closed the connection before the end of the body. */
  | { readonly kind: 'aborted' };

/**
 * Past the limit, the rest of a body is still read (and dropped) up to this many bytes in all:
 * clients that send the whole body before reading the answer (Python's urllib, Node's fetch)
 * would otherwise get EPIPE or a reset instead of the 413. A larger body gets its answer with
 * `connection: close` and is not read.
 */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The whole body when it is at most `limit` bytes. Past the limit, `overLimit` is called at once
 * (to answer early: curl and raw clients read while they send) and the rest is read and dropped
 * up to {@link DISCARD_MAX_BYTES}, then `tooLarge` (drained or not). `aborted` when the client
 * goes away mid-body. Never rejects.
 */
export function readRequestBody(request: IncomingMessage, limit: number, overLimit: () => void): Promise<BodyOutcome> {
  // Most requests (GET, DELETE) have no body: skip the stream machinery entirely.
  if (!hasBody(request)) return Promise.resolve(BODY_EMPTY);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > DISCARD_MAX_BYTES) return Promise.resolve(TOO_LARGE_UNREAD);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let settled = false;
    const settle = (outcome: BodyOutcome): void => {
      if (settled) return;
      settled = true;
      request.removeListener('data', onData);
      resolve(outcome);
    };
    const markOver = (): void => {
      over = true;
      chunks.length = 0;
      overLimit();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > DISCARD_MAX_BYTES) {
        request.pause();
        settle(TOO_LARGE_UNREAD);
        return;
      }
      if (over) return;
      if (size > limit) markOver();
      else chunks.push(chunk);
    };
    if (Number.isFinite(declared) && declared > limit) markOver();
    request.on('data', onData);
    request.once('end', () => settle(over ? TOO_LARGE_DRAINED : { kind: 'body', body: Buffer.concat(chunks, size) }));
    // A reset mid-body ('aborted', ECONNRESET) or a close before the end: the client left.
    request.once('error', () => settle(ABORTED));
    request.once('close', () => {
      if (!request.complete) settle(ABORTED);
    });
  });
}

const BODY_EMPTY: BodyOutcome = { kind: 'body', body: EMPTY };
const TOO_LARGE_UNREAD: BodyOutcome = { kind: 'tooLarge', drained: false };
const TOO_LARGE_DRAINED: BodyOutcome = { kind: 'tooLarge', drained: true };
const ABORTED: BodyOutcome = { kind: 'aborted' };

function send(response: ServerResponse, requestId: string, answer: HttpResponse, close = false): void {
  if (response.headersSent || response.destroyed) return;
  const headers: string[] = [];
  for (const [name, value] of answer.headers) {
    // Framing is the gateway's business, not the function's.
    if (!FRAMING_HEADERS.has(name.toLowerCase())) headers.push(name, value);
  }
  headers.push('content-length', String(answer.body.length), 'apigw-requestid', requestId);
  // An unread body would be left on the connection: close it after the answer.
  if (close) headers.push('connection', 'close');
  response.writeHead(answer.statusCode, headers);
  response.end(answer.body);
}
