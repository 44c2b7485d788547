// The program of one execution environment (a child process): Lambda's Node.js runtime in
// small. It imports the handler once (init), then runs one invocation per `invoke` message with
// a Lambda context, and reports results, errors and console output over the IPC channel.
// Kept free of imports beyond node: so that a cold start costs Node's boot and the handler only.
import { writeSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, types } from 'node:util';

import type { BootstrapConfig, ErrorShape, FromEnvironment, FunctionResult, InvokeMessage } from './protocol.js';

/** protocol.ts's BODY_FD, repeated: the bootstrap imports nothing but node: modules (it may run from a copy). */
const BODY_FD = 4;

type Handler = (event: unknown, context: LambdaContext, callback?: Callback) => unknown;
type Callback = (error?: unknown, result?: unknown) => void;

interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  getRemainingTimeInMillis(): number;
  done?: Callback;
  succeed?: (result?: unknown) => void;
  fail?: (error?: unknown) => void;
}

const config = JSON.parse(process.argv[2] ?? '{}') as BootstrapConfig;
const env = process.env;
const CALLBACKS_REMOVED = config.runtime === 'nodejs24.x';

// Lambda prints the request id of the invocation in progress — and, after it returned, of the
// last one: background work logs under it too. During init there is none ("undefined").
let currentRequestId: string | undefined;

function send(message: FromEnvironment, then?: () => void): void {
  if (!process.connected) {
    then?.();
    return;
  }
  process.send?.(message, undefined, undefined, then === undefined ? undefined : () => then());
}

function log(level: string, message: string, then?: () => void): void {
  send({ t: 'log', ts: new Date().toISOString(), level, id: currentRequestId, msg: message }, then);
}

// Lambda replaces console's methods the same way: one record per call, with level and request id.
const LEVELS = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' } as const;
for (const [method, level] of Object.entries(LEVELS)) {
  (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]): void => log(level, format(...args));
}

// Direct writes to stdout and stderr take the same channel as console records and results, so
// they stay in order with START and END. (Node's own fatal errors still go to the real stderr.)
for (const name of ['stdout', 'stderr'] as const) {
  const stream = process[name];
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    send({ t: 'out', s: name, d: text });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as (error?: Error | null) => void)(null));
    return true;
  }) as typeof stream.write;
}

function toErrorShape(error: unknown, errorType?: string): ErrorShape {
  if (error instanceof Error) {
    return {
      errorType: errorType ?? error.name,
      errorMessage: error.message,
      stack: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: errorType ?? (error === null ? 'null' : typeof error), errorMessage: String(error) };
}

function fatal(label: string, shape: ErrorShape, exitCode: number): void {
  // Exit once the record is on its way, or after a moment if the channel is stuck.
  setTimeout(() => process.exit(exitCode), 200);
  log('ERROR', `${label} \t${JSON.stringify(shape)}`, () => process.exit(exitCode));
}

// Lambda's Node.js runtime ends the environment on these (and reports Runtime.ExitError).
process.on('uncaughtException', (error) => fatal('Uncaught Exception', toErrorShape(error), 129));
process.on('unhandledRejection', (reason) =>
  fatal('Unhandled Promise Rejection', toErrorShape(reason, 'Runtime.UnhandledPromiseRejection'), 128),
);
// The runtime went away (closed, crashed): an environment never outlives it.
process.on('disconnect', () => process.exit(0));

async function loadHandler(): Promise<Handler | ErrorShape> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(config.entry).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (error instanceof SyntaxError) return toErrorShape(error, 'Runtime.UserCodeSyntaxError');
    if (code === 'ERR_MODULE_NOT_FOUND') return toErrorShape(error, 'Runtime.ImportModuleError');
    return toErrorShape(error);
  }
  // A CommonJS entry exposes module.exports as `default`.
  const fromDefault = module['default'] as Record<string, unknown> | undefined;
  const handler = module[config.handlerExport] ?? fromDefault?.[config.handlerExport];
  const name = `${basename(config.entry).replace(/\.[cm]?js$/, '')}.${config.handlerExport}`;
  if (typeof handler !== 'function') {
    return {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${name} is undefined or not exported`,
    };
  }
  if (CALLBACKS_REMOVED && handler.length >= 3) {
    return {
      errorType: 'Runtime.CallbackHandlerDeprecated',
      errorMessage:
        'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. ' +
        'You need to modify this function to use a supported handler signature to use Node.js 24 or later.',
    };
  }
  return handler as Handler;
}

function createContext(message: InvokeMessage): LambdaContext {
  const functionName = env['AWS_LAMBDA_FUNCTION_NAME'] ?? '';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: env['AWS_LAMBDA_FUNCTION_VERSION'] ?? '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${env['AWS_REGION'] ?? ''}:${config.accountId}:function:${functionName}`,
    memoryLimitInMB: env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] ?? '',
    awsRequestId: message.id,
    logGroupName: env['AWS_LAMBDA_LOG_GROUP_NAME'] ?? '',
    logStreamName: env['AWS_LAMBDA_LOG_STREAM_NAME'] ?? '',
    // From the real deadline, so time spent anywhere (init, I/O, a frozen process) counts.
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
}

function call(handler: Handler, event: unknown, context: LambdaContext): Promise<unknown> {
  if (handler.length < 3) return Promise.resolve().then(() => handler(event, context));
  // Callback style (nodejs20.x and nodejs22.x only): the first of callback and returned promise wins.
  return new Promise((resolve, reject) => {
    const callback: Callback = (error, result) => (error === undefined || error === null ? resolve(result) : reject(error));
    context.done = callback;
    context.succeed = (result) => callback(null, result);
    context.fail = (error) => callback(error ?? new Error('handled'));
    const returned = handler(event, context, callback);
    if (returned !== null && typeof returned === 'object' && typeof (returned as Promise<unknown>).then === 'function') {
      (returned as Promise<unknown>).then(resolve, reject);
    }
  });
}

function peakRssKb(): number {
  return process.resourceUsage().maxRSS;
}

// Past this depth a result takes the JSON path (which also reports a circular one as Lambda does).
const PLAIN_MAX_DEPTH = 32;

/**
 * An upper bound of the bytes of `JSON.stringify(value)` when `value` is plain JSON data (see
 * FunctionResult), or -1 when it is not: then only JSON.stringify gives Lambda's result. A UTF-16
 * unit takes at most 6 bytes in JSON (`\u001f`); a finite number at most 24.
 */
function plainJsonBound(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return 6 * value.length + 2;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? 24 : -1;
    case 'boolean':
      return 5;
    case 'object': {
      if (value === null) return 4;
      // A proxy cannot be cloned; a deep value may be circular.
      if (types.isProxy(value) || depth >= PLAIN_MAX_DEPTH) return -1;
      let bound = 2;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return -1;
        // A hole or undefined element would become null: not the same value.
        for (const element of value as unknown[]) {
          const size = plainJsonBound(element, depth + 1);
          if (size < 0) return -1;
          bound += size + 1;
        }
        return bound;
      }
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null) return -1;
      if (Object.getOwnPropertySymbols(value).length > 0) return -1;
      for (const key of Object.keys(value)) {
        // JSON.parse would make "__proto__" an own property; leave such results to it.
        if (key === '__proto__' || key === 'toJSON') return -1;
        const size = plainJsonBound((value as Record<string, unknown>)[key], depth + 1);
        if (size < 0) return -1;
        bound += 6 * key.length + 4 + size;
      }
      return bound;
    }
    default:
      return -1; // undefined, functions, symbols, bigints
  }
}

/** Below this many UTF-16 units a body travels inside the value: bytes would not be cheaper. */
const BODY_AS_BYTES_MIN_LENGTH = 4096;

/** The result as it crosses to the runtime: itself when plain and small enough, else Lambda's JSON. */
function toFunctionResult(result: unknown): FunctionResult {
  // Lambda serializes the result with JSON.stringify; `undefined` becomes null.
  const value = result === undefined ? null : result;
  const bound = plainJsonBound(value, 0);
  if (bound >= 0 && bound <= config.resultMaxBytes) return withBodyAsBytes(value);
  return { json: JSON.stringify(value) ?? 'null' };
}

/**
 * A plain structured result with a large text body: the body as UTF-8 bytes beside it (see
 * FunctionResult). The result object itself is not changed: the function may keep it.
 */
function withBodyAsBytes(value: unknown): FunctionResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('statusCode' in value)) return { value };
  const { body, isBase64Encoded } = value as { body?: unknown; isBase64Encoded?: unknown };
  if (typeof body !== 'string' || body.length < BODY_AS_BYTES_MIN_LENGTH || isBase64Encoded === true) return { value };
  // Spread keeps the keys' order, so the value with its text put back serializes as returned.
  return { value: { ...value, body: '' }, body: utf8Of(body) };
}

// The buffer a large body is encoded into, kept for the next result: the bytes are written to the
// body pipe before the next invocation can start, so one buffer serves every invocation. A new
// buffer per result would cost more than the encoding where fresh memory is slow to touch
// (Firecracker: about 3 ns a byte on this project's VM).
let bodyBuffer = Buffer.alloc(0);

/** `text` as UTF-8, in {@link bodyBuffer}: valid until the next call. */
function utf8Of(text: string): Buffer {
  const bytes = Buffer.byteLength(text, 'utf8');
  // A quarter more room, so that a body that grows a little at a time is not re-allocated each time.
  if (bodyBuffer.length < bytes) bodyBuffer = Buffer.allocUnsafeSlow(bytes + (bytes >> 2));
  return bodyBuffer.subarray(0, bodyBuffer.write(text, 0, bytes, 'utf8'));
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  currentRequestId = message.id;
  env['_X_AMZN_TRACE_ID'] = message.trace;
  const context = createContext(message);
  const started = performance.now();
  let result: FunctionResult;
  try {
    result = toFunctionResult(await call(handler, message.event, context));
  } catch (error) {
    const shape = toErrorShape(error);
    log('ERROR', `Invoke Error \t${JSON.stringify(shape)}`);
    send({ t: 'error', id: message.id, error: shape, ms: performance.now() - started, rss: peakRssKb() });
    return;
  }
  const ms = performance.now() - started;
  if ('value' in result && result.body !== undefined) {
    // The bytes first, the message that counts them after: the runtime reads both before answering.
    writeAll(BODY_FD, result.body);
    send({ t: 'result', id: message.id, result: { value: result.value }, bodyBytes: result.body.length, ms, rss: peakRssKb() });
    return;
  }
  send({ t: 'result', id: message.id, result, ms, rss: peakRssKb() });
}

/** Writes all of `bytes` to `fd` (a blocking socket: it waits while the runtime reads). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written, bytes.length - written);
}

const loaded = await loadHandler();
// performance.now() counts from the process start: init covers Node's boot and the import, as
// Lambda's Init Duration covers the runtime's start and the handler module's.
if (typeof loaded !== 'function') {
  log('ERROR', `Uncaught Exception \t${JSON.stringify(loaded)}`);
  send({ t: 'init-error', error: loaded, initMs: performance.now() });
} else {
  const handler = loaded;
  process.on('message', (message: InvokeMessage) => {
    if (message.t === 'invoke') void invoke(handler, message);
  });
  send({ t: 'ready', initMs: performance.now() });
}
