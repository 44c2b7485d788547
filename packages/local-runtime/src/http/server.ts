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
  const server = createServer({ maxHeaderSize: NODE_MAX_HEADER_SIZE }, (request, response) => {
    handle(settings, request, response).catch((error: unknown) => {
      settings.notes.note(`request failed inside the runtime: ${(error as Error).stack ?? String(error)}`);
      if (!response.headersSent) send(response, newApiRequestId(), GATEWAY_RESPONSES.internalServerError, true);
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
  if (match === undefined) {
    send(response, requestId, GATEWAY_RESPONSES.notFound, hasBody(request));
    return;
  }
  const body = await readBody(request, PLATFORM_LIMITS.requestBodyMaxBytes);
  if (body === null) {
    send(response, requestId, GATEWAY_RESPONSES.requestTooLarge, true);
    return;
  }
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

export function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The whole body, or `null` once it is over `limit` bytes (the rest is not read). */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  // Most requests (GET, DELETE) have no body: skip the stream machinery entirely.
  if (!hasBody(request)) return Promise.resolve(EMPTY);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(size > limit ? null : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

function send(response: ServerResponse, requestId: string, answer: HttpResponse, close = false): void {
  if (response.headersSent || response.destroyed) return;
  const headers: string[] = [];
  for (const [name, value] of answer.headers) {
    // Framing is the gateway's business, not the function's.
    if (!FRAMING_HEADERS.has(name.toLowerCase())) headers.push(name, value);
  }
  headers.push('content-length', String(answer.body.length), 'apigw-requestid', requestId);
  // An unread or oversized body would be left on the connection: close it after the answer.
  if (close) headers.push('connection', 'close');
  response.writeHead(answer.statusCode, headers);
  response.end(answer.body);
}
