/**
 * Structured logs: one JSON object per line on stdout, in the shape of Lambda's JSON log format
 * (`timestamp`, `level`, `requestId`, `message`) plus fields. Written with process.stdout, not
 * console, so Lambda's text log format does not prefix it and every line stays parseable JSON.
 */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface LogEntry {
  readonly level: LogLevel;
  readonly requestId: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** Where log entries go; tests pass one that collects them. */
export type LogSink = (entry: LogEntry) => void;

export const stdoutLog: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), ...entry })}\n`);
};

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
