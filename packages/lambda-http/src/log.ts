/**
 * Structured logs in Powertools' vocabulary (the keys of `@aws-lambda-powertools/logger`, so log
 * queries and dashboards written for it work): one JSON object per line with `level`, `message`,
 * `timestamp`, `service`, `cold_start`, `function_request_id`, `xray_trace_id`… plus our fields;
 * the level from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls), else
 * `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`. Written here rather than through Powertools: its line
 * cost about 100 µs of CPU in a fresh environment against about 12 µs for this one, on every
 * request (apps/message-wall/BENCHMARKS.md). Code logs through a {@link LogSink}: tests pass one
 * that collects the entries, functions get {@link functionLog}.
 */
import type { InvocationContext } from './event.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface LogEntry {
  readonly level: LogLevel;
  /** Lambda's request id (logged as `function_request_id`), or 'init' outside a request. */
  readonly requestId: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** Where log entries go; tests pass one that collects them. */
export type LogSink = (entry: LogEntry) => void;

/**
 * One JSON line per entry on stdout, without Powertools' keys (`timestamp`, `level`, `requestId`,
 * `message`, fields). For code that runs outside a function (CLIs, benchmarks).
 */
export const stdoutLog: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), ...entry })}\n`);
};

/** The invocation's context as Lambda and the local runtime give it; only these fields are logged. */
interface LoggedContext extends InvocationContext {
  readonly functionName?: string;
  readonly invokedFunctionArn?: string;
  readonly memoryLimitInMB?: string | number;
}

const DEBUG = 8;
const INFO = 12;
const WARN = 16;

/** Severity numbers of Powertools' levels (and Lambda's FATAL, Powertools' CRITICAL). */
const SEVERITY: Readonly<Record<string, number>> = {
  TRACE: 6,
  DEBUG,
  INFO,
  WARN,
  ERROR: 20,
  CRITICAL: 24,
  FATAL: 24,
  SILENT: 28,
};

/** What the process's log lines share, read once from the environment on first use. */
interface ProcessLog {
  readonly minimum: number;
  readonly service: string;
  readonly samplingRate: number;
  readonly onDemand: boolean;
}

let processLog: ProcessLog | undefined;

function readProcessLog(): ProcessLog {
  const env = process.env;
  const named = [env['AWS_LAMBDA_LOG_LEVEL'], env['POWERTOOLS_LOG_LEVEL'], env['LOG_LEVEL']]
    .map((value) => value?.trim().toUpperCase())
    .find((value) => value !== undefined && value !== '' && SEVERITY[value] !== undefined);
  const rate = Number(env['POWERTOOLS_LOGGER_SAMPLE_RATE'] ?? 0);
  const samplingRate = Number.isFinite(rate) && rate > 0 && rate <= 1 ? rate : 0;
  // As Powertools: a sampled environment logs DEBUG too (decided once, at its start).
  const sampled = samplingRate > 0 && Math.random() <= samplingRate;
  return {
    minimum: Math.min(SEVERITY[named ?? 'INFO'] ?? INFO, sampled ? DEBUG : Infinity),
    service: env['POWERTOOLS_SERVICE_NAME'] || env['AWS_LAMBDA_FUNCTION_NAME'] || 'lambda-efs',
    samplingRate,
    onDemand: env['AWS_LAMBDA_INITIALIZATION_TYPE'] === 'on-demand',
  };
}

const RESERVED_FIELDS = ['timestamp', 'service', 'sampling_rate'] as const;

/** The keys of the invocation in progress (set by {@link addLogContext}). */
let contextKeys: Readonly<Record<string, unknown>> = {};
let invocations = 0;

/**
 * The sink of a function's process: one JSON line per entry, INFO and DEBUG on stdout, WARN and
 * ERROR on stderr, written directly (not through console, so Lambda's text format does not
 * prefix them).
 */
export const functionLog: LogSink = (entry) => {
  const settings = (processLog ??= readProcessLog());
  const { level, message, requestId, ...fields } = entry;
  const severity = SEVERITY[level] ?? INFO;
  if (severity < settings.minimum) return;
  // As Powertools, fields do not replace these keys (level and message are taken out above).
  for (const key of RESERVED_FIELDS) if (key in fields) delete (fields as Record<string, unknown>)[key];
  const line = serialize({
    level,
    message,
    timestamp: new Date().toISOString(),
    service: settings.service,
    ...contextKeys,
    sampling_rate: settings.samplingRate,
    xray_trace_id: xrayTraceId(process.env['_X_AMZN_TRACE_ID']),
    // The context's request id is function_request_id already.
    ...(requestId === 'init' || requestId === contextKeys['function_request_id'] ? {} : { requestId }),
    ...fields,
  });
  (severity >= WARN ? process.stderr : process.stdout).write(`${line}\n`);
};

/**
 * Gives the process's log lines the invocation's context: `cold_start` (true on an on-demand
 * environment's first invocation), `function_arn`, `function_memory_size`, `function_name`,
 * `function_request_id`.
 */
export function addLogContext(context: InvocationContext | undefined): void {
  if (context?.awsRequestId === undefined) return;
  const settings = (processLog ??= readProcessLog());
  const { functionName, invokedFunctionArn, memoryLimitInMB } = context as LoggedContext;
  invocations += 1;
  contextKeys = {
    cold_start: settings.onDemand && invocations === 1,
    function_arn: invokedFunctionArn,
    function_memory_size: memoryLimitInMB,
    function_name: functionName,
    function_request_id: context.awsRequestId,
  };
}

/** X-Ray's trace id from `_X_AMZN_TRACE_ID` (`Root=1-…;Parent=…;Sampled=1`). */
function xrayTraceId(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const root = header.split(';')[0] ?? '';
  return root.startsWith('Root=') && root.length > 5 ? root.slice(5) : undefined;
}

/**
 * The entry as one line of JSON, without the keys whose value is undefined, null or '' (as
 * Powertools leaves them out). Never throws: a value JSON cannot take (a cycle, a BigInt) is
 * written as text instead of losing the line.
 */
function serialize(entry: Record<string, unknown>): string {
  // JSON.stringify leaves undefined out itself; deleting only when needed keeps the object fast.
  for (const key in entry) if (entry[key] === null || entry[key] === '') delete entry[key];
  try {
    return JSON.stringify(entry);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(entry, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}

/** An error as loggable fields, its cause chain included. */
export function errorFields(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') fields['code'] = code;
  if (error.stack !== undefined) fields['stack'] = error.stack;
  if (error.cause !== undefined && depth < 3) fields['cause'] = errorFields(error.cause, depth + 1);
  return fields;
}

/** Milliseconds since `startedAt` (a performance.now() reading), to two decimals, for log fields. */
export function since(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 100) / 100;
}
