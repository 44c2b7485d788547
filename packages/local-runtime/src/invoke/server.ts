// Lambda's Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`), as `sam local
// start-lambda` serves it: what `aws lambda invoke --endpoint-url`, @aws-sdk/client-lambda and
// Terraform's aws_lambda_invocation speak. Shapes from the Lambda API reference (Invoke) and,
// where it is silent, from what AWS answers (marked "observed" in the README).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import type { InvokeOptions, PoolOutcome } from '../environments/pool.js';
import { resultValue, type ErrorShape } from '../environments/protocol.js';
import { newTraceId } from '../http/event.js';
import { closesAfterAnswer, readRequestBody } from '../http/server.js';
import { PLATFORM_LIMITS } from '../limits.js';
import type { RuntimeNotes } from '../logs/logger.js';
import { parseFunctionName } from './function-name.js';

/** What the Invoke API needs from the rest of the runtime. */
export interface InvokeFrontSettings {
  /** The functions served (every one, routed or not). */
  readonly functionNames: ReadonlySet<string>;
  /** Runs one invocation; never rejects. */
  readonly invoke: (functionName: string, event: unknown, traceId: string, options?: InvokeOptions) => Promise<PoolOutcome>;
  readonly region: string;
  readonly accountId: string;
  readonly notes: RuntimeNotes;
}

/** The Invoke API's server, and a way to wait for the `Event` invocations still running. */
export interface InvokeFront {
  readonly server: Server;
  /** Stops retrying throttled `Event` invocations and resolves once none is running. */
  drain(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'] as const;
type InvocationType = (typeof INVOCATION_TYPES)[number];
// What X-Amz-Log-Result holds: the end of the invocation's log.
const LOG_TAIL_BYTES = 4096;
// A throttled Event invocation waits in Lambda's queue; here it is retried, backing off to this.
const EVENT_RETRY_MAX_MS = 1000;

/** Creates the Invoke API's server (not listening yet). */
export function createInvokeFront(settings: InvokeFrontSettings): InvokeFront {
  const background = new Set<Promise<void>>();
  let draining = false;

  const runEvent = async (functionName: string, event: unknown): Promise<void> => {
    let delay = 50;
    for (;;) {
      const outcome = await settings.invoke(functionName, event, newTraceId(Date.now()));
      if (outcome.kind === 'result') return;
      if (outcome.kind === 'failed') {
        settings.notes.note(
          `${functionName}: Event invocation ${outcome.requestId} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage} ` +
            '(Lambda would retry it twice; the local runtime does not).',
        );
        return;
      }
      if (draining) {
        settings.notes.note(`${functionName}: a throttled Event invocation was dropped: the runtime is stopping.`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, EVENT_RETRY_MAX_MS);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      settings.notes.note(`Invoke API request failed inside the runtime: ${(error as Error).stack ?? String(error)}`);
      sendError(response, 500, 'ServiceException', { Type: 'Service', message: 'The local runtime failed; see its log.' });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (request.method !== 'POST' || match?.[1] === undefined) {
      // Not an operation of this endpoint; AWS's other Lambda operations are not served.
      sendError(response, 404, 'UnknownOperationException', {
        Type: 'User',
        message: `${request.method ?? ''} ${url.pathname} is not served here: this local endpoint serves only Invoke (POST /2015-03-31/functions/{FunctionName}/invocations).`,
      });
      return;
    }

    let given: string;
    try {
      given = decodeURIComponent(match[1]);
    } catch {
      given = match[1];
    }
    const reference = parseFunctionName(given);
    if (reference === undefined) {
      sendError(response, 400, 'ValidationException', {
        message:
          `1 validation error detected: Value '${given}' at 'functionName' failed to satisfy constraint: Member must satisfy ` +
          'regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
      });
      return;
    }
    const queryQualifier = url.searchParams.get('Qualifier') ?? undefined;
    if (reference.qualifier !== undefined && queryQualifier !== undefined && reference.qualifier !== queryQualifier) {
      sendError(response, 400, 'InvalidParameterValueException', {
        Type: 'User',
        message: 'The derived qualifier from the function name does not match the specified qualifier.',
      });
      return;
    }
    const qualifier = reference.qualifier ?? queryQualifier;
    const arn = `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${reference.name}`;
    if (!settings.functionNames.has(reference.name) || (qualifier !== undefined && qualifier !== '$LATEST')) {
      sendError(response, 404, 'ResourceNotFoundException', {
        Type: 'User',
        message: `Function not found: ${qualifier === undefined ? arn : `${arn}:${qualifier}`}`,
      });
      return;
    }

    const typeHeader = request.headers['x-amz-invocation-type'];
    const invocationType = (typeof typeHeader === 'string' ? typeHeader : 'RequestResponse') as InvocationType;
    if (!INVOCATION_TYPES.includes(invocationType)) {
      sendError(response, 400, 'ValidationException', {
        message: `1 validation error detected: Value '${String(typeHeader)}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      });
      return;
    }

    const logTypeHeader = request.headers['x-amz-log-type'];
    const logType = typeof logTypeHeader === 'string' ? logTypeHeader : 'None';
    if (logType !== 'None' && logType !== 'Tail') {
      sendError(response, 400, 'ValidationException', {
        message: `1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`,
      });
      return;
    }

    const limit = invocationType === 'Event' ? PLATFORM_LIMITS.asyncInvokePayloadMaxBytes : PLATFORM_LIMITS.invokePayloadMaxBytes;
    const declared = Number(request.headers['content-length']);
    const tooLarge = (close: boolean): void =>
      sendError(
        response,
        413,
        'RequestEntityTooLargeException',
        {
          Type: 'User',
          message:
            invocationType === 'Event'
              ? `${Number.isFinite(declared) ? declared : `More than ${limit}`} byte payload is too large for the Event invocation type (limit ${limit} bytes)`
              : `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
        },
        close,
      );
    // Answered at once unless the connection closes after the answer (see the HTTP front).
    const early = !closesAfterAnswer(request);
    const read = await readRequestBody(request, limit, () => {
      if (early) tooLarge(false);
    });
    if (read.kind === 'aborted') {
      if (!response.headersSent) {
        settings.notes.note(
          `Invoke ${reference.name}: the client closed the connection before the end of the payload; nothing was invoked.`,
        );
      }
      return;
    }
    if (read.kind === 'tooLarge') {
      if (read.drained) {
        tooLarge(false);
        return;
      }
      if (response.headersSent) request.socket.destroy();
      else tooLarge(true);
      return;
    }
    const body = read.body;
    let event: unknown;
    try {
      // An invocation without a payload receives an empty object (assumed: what the CLI's and
      // the SDK's payload-less invocations deliver).
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (error) {
      sendError(response, 400, 'InvalidRequestContentException', {
        Type: 'User',
        message: `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`,
      });
      return;
    }

    if (invocationType === 'DryRun') {
      send(response, 204, [['x-amzn-RequestId', randomUUID()]], Buffer.alloc(0));
      return;
    }
    if (invocationType === 'Event') {
      const running = runEvent(reference.name, event).finally(() => background.delete(running));
      background.add(running);
      send(response, 202, [['x-amzn-RequestId', randomUUID()]], Buffer.alloc(0));
      return;
    }

    const outcome = await settings.invoke(reference.name, event, newTraceId(Date.now()), { tail: logType === 'Tail' });
    // Lambda returns the last 4 KB of the invocation's log, base64, when asked (synchronous calls only).
    const tail: [string, string][] =
      outcome.kind !== 'throttled' && outcome.log !== undefined ? [['X-Amz-Log-Result', logTail(outcome.log)]] : [];
    switch (outcome.kind) {
      case 'throttled':
        sendError(response, 429, 'TooManyRequestsException', {
          Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
          Type: 'User',
          message: 'Rate Exceeded.',
        });
        return;
      case 'failed':
        send(
          response,
          200,
          [
            ['x-amzn-RequestId', outcome.requestId],
            ['X-Amz-Executed-Version', '$LATEST'],
            ['X-Amz-Function-Error', 'Unhandled'],
            ['content-type', 'application/json'],
            ...tail,
          ],
          Buffer.from(JSON.stringify(errorPayload(outcome.error))),
        );
        return;
      case 'result':
        send(
          response,
          200,
          [['x-amzn-RequestId', outcome.requestId], ['X-Amz-Executed-Version', '$LATEST'], ['content-type', 'application/json'], ...tail],
          Buffer.from('json' in outcome.result ? outcome.result.json : JSON.stringify(resultValue(outcome.result))),
        );
        return;
    }
  }

  return {
    server,
    drain: async () => {
      draining = true;
      await Promise.all([...background]);
    },
  };
}

/** The last {@link LOG_TAIL_BYTES} bytes of an invocation's log lines, base64. */
function logTail(lines: readonly string[]): string {
  const log = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
  return log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString('base64');
}

/** The error payload Lambda's Node.js runtime returns: `errorType`, `errorMessage`, `trace` (stack lines). */
export function errorPayload(error: ErrorShape): { errorType: string; errorMessage: string; trace?: readonly string[] } {
  return {
    errorType: error.errorType,
    errorMessage: error.errorMessage,
    ...(error.stack === undefined ? {} : { trace: error.stack }),
  };
}

function sendError(response: ServerResponse, status: number, errorType: string, body: Record<string, string>, close = false): void {
  const headers: [string, string][] = [
    ['x-amzn-RequestId', randomUUID()],
    ['x-amzn-ErrorType', errorType],
    ['content-type', 'application/json'],
  ];
  if (close) headers.push(['connection', 'close']);
  send(response, status, headers, Buffer.from(JSON.stringify(body)));
}

function send(response: ServerResponse, status: number, headers: readonly [string, string][], body: Buffer): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, [...headers.flat(), 'content-length', String(body.length)]);
  response.end(body);
}
