/**
 * Structured logs in Powertools' vocabulary (`@aws-lambda-powertools/logger`): one JSON object per
 * line with `level`, `message`, `timestamp`, `service`, `cold_start`, `function_request_id`,
 * `xray_trace_id`… plus our fields; the level from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced
 * logging controls) or `POWERTOOLS_LOG_LEVEL`. Code logs through a {@link LogSink}: tests pass one
 * that collects the entries, functions get {@link functionLog}.
 */
import { Logger } from '@aws-lambda-powertools/logger';

import type { InvocationContext } from './event.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface LogEntry {
  readonly level: LogLevel;
  /** Lambda's request id (Powertools logs it as `function_request_id`), or 'init' outside a request. */
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

let shared: Logger | undefined;
/** The request id of the context last given to {@link addLogContext}: Powertools logs it already. */
let contextRequestId: string | undefined;

/**
 * The process's Powertools logger, created on first use. Its service is `POWERTOOLS_SERVICE_NAME`,
 * else the function's name.
 */
export function functionLogger(): Logger {
  shared ??= new Logger(
    process.env['POWERTOOLS_SERVICE_NAME'] === undefined ? { serviceName: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'lambda-efs' } : {},
  );
  return shared;
}

/** A sink that writes through a Powertools logger (default: {@link functionLogger}). */
export function powertoolsLog(logger: Logger = functionLogger()): LogSink {
  return (entry) => {
    // Powertools logs the request id as function_request_id (from the invocation's context).
    const { level, message, requestId, ...fields } = entry;
    const extra = requestId === 'init' || requestId === contextRequestId ? fields : { ...fields, requestId };
    switch (level) {
      case 'DEBUG':
        logger.debug(message, extra);
        break;
      case 'INFO':
        logger.info(message, extra);
        break;
      case 'WARN':
        logger.warn(message, extra);
        break;
      case 'ERROR':
        logger.error(message, extra);
        break;
    }
  };
}

/** The sink of a function's process: Powertools' logger on stdout. */
export const functionLog: LogSink = (entry) => powertoolsLog()(entry);

/**
 * Gives the process's logger the invocation's context: `cold_start` (true on an environment's
 * first invocation), `function_request_id`, `function_name`, `function_arn`, `function_memory_size`.
 */
export function addLogContext(context: InvocationContext | undefined, logger: Logger = functionLogger()): void {
  if (context?.awsRequestId === undefined) return;
  contextRequestId = context.awsRequestId;
  // Powertools reads only these fields; the local runtime's and Lambda's contexts have them all.
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
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
