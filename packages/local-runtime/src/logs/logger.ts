/** `text`: Lambda's plain lines (its default). `json`: Lambda's JSON log format. */
export type LogFormat = 'text' | 'json';

/** Where log lines go: one call per line, without the trailing newline. */
export type LogSink = (line: string, stream: 'stdout' | 'stderr') => void;

const pending = { stdout: [] as string[], stderr: [] as string[] };
let flushScheduled = false;

function flushLogs(): void {
  flushScheduled = false;
  if (pending.stdout.length > 0) process.stdout.write(`${pending.stdout.splice(0).join('\n')}\n`);
  if (pending.stderr.length > 0) process.stderr.write(`${pending.stderr.splice(0).join('\n')}\n`);
}

/**
 * Writes to the runtime's own stdout and stderr. Lines are gathered and written once per turn
 * of the event loop: one write for a burst of START/END/REPORT lines instead of one each, which
 * under load halves the runtime's write system calls. Order within each stream is kept.
 */
export const processLogSink: LogSink = (line, stream) => {
  pending[stream].push(line);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushLogs);
};
// Nothing is lost when the process exits between a log call and the next turn.
process.once('exit', flushLogs);

/** A line a function wrote through `console` (see the environment bootstrap). */
export interface FunctionLogRecord {
  readonly timestamp: string;
  /** Lambda's levels: TRACE, DEBUG, INFO, WARN, ERROR, FATAL. */
  readonly level: string;
  /** `undefined` outside an invocation (during init), as Lambda prints it. */
  readonly requestId: string | undefined;
  readonly message: string;
}

/** The figures of a REPORT line. */
export interface InvocationReport {
  readonly requestId: string;
  readonly durationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Only on the invocation that started the environment (a cold start). */
  readonly initDurationMs?: number;
  readonly status: 'success' | 'error' | 'timeout';
  readonly errorType?: string;
}

/**
 * Lambda's log lines for one function, in Lambda's text or JSON format: INIT_START, START, END,
 * REPORT, the function's own output tagged with the request id, and "Task timed out". All
 * functions share the runtime's output, so each line also names its function (text: a
 * `[name]` prefix; JSON: a `functionName` key) where CloudWatch would use one log group each.
 */
export class FunctionLogger {
  readonly #functionName: string;
  readonly #format: LogFormat;
  readonly #sink: LogSink;
  readonly #prefix: string;
  // Lines of the invocations whose log is asked for (the Invoke API's X-Amz-Log-Type: Tail).
  readonly #taps = new Map<string, string[]>();

  constructor(functionName: string, format: LogFormat, sink: LogSink) {
    this.#functionName = functionName;
    this.#format = format;
    this.#sink = sink;
    this.#prefix = `[${functionName}] `;
  }

  initStart(runtimeVersion: string, initializationType: string): void {
    if (this.#format === 'text') {
      this.#text(`INIT_START Runtime Version: ${runtimeVersion}`);
      return;
    }
    this.#platform('platform.initStart', {
      initializationType,
      phase: 'init',
      runtimeVersion,
      functionName: this.#functionName,
      functionVersion: '$LATEST',
    });
  }

  /** An init that failed or timed out: Lambda's INIT_REPORT line. */
  initReport(initDurationMs: number, status: 'error' | 'timeout', errorType: string | undefined): void {
    if (this.#format === 'text') {
      const error = errorType === undefined ? '' : `\tError Type: ${errorType}`;
      this.#text(`INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: ${status}${error}`);
      return;
    }
    this.#platform('platform.initReport', {
      initializationType: 'on-demand',
      phase: 'init',
      status,
      ...(errorType === undefined ? {} : { errorType }),
      metrics: { durationMs: round2(initDurationMs) },
    });
  }

  /** Starts keeping the lines of invocation `requestId` (until {@link untap}). */
  tap(requestId: string): void {
    this.#taps.set(requestId, []);
  }

  /** Stops keeping the lines of invocation `requestId` and returns them, as Lambda writes them (no `[name]` prefix). */
  untap(requestId: string): string[] {
    const lines = this.#taps.get(requestId) ?? [];
    this.#taps.delete(requestId);
    return lines;
  }

  start(requestId: string): void {
    if (this.#format === 'text') this.#text(`START RequestId: ${requestId} Version: $LATEST`, requestId);
    else this.#platform('platform.start', { requestId, version: '$LATEST' }, requestId);
  }

  /** END and REPORT, written together (one write: they always come as a pair). */
  endAndReport(report: InvocationReport): void {
    const billed = billedDurationMs(report);
    if (this.#format === 'text') {
      const init = report.initDurationMs === undefined ? '' : `\tInit Duration: ${report.initDurationMs.toFixed(2)} ms`;
      // Lambda's text REPORT names the status only for timeouts and runtime failures.
      const status = report.status === 'timeout' || report.errorType !== undefined ? `\tStatus: ${report.status}` : '';
      const error = report.errorType === undefined ? '' : `\tError Type: ${report.errorType}`;
      const end = `END RequestId: ${report.requestId}`;
      const line =
        `REPORT RequestId: ${report.requestId}` +
        `\tDuration: ${report.durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms` +
        `\tMemory Size: ${report.memorySizeMb} MB\tMax Memory Used: ${report.maxMemoryUsedMb} MB${init}${status}${error}`;
      this.#taps.get(report.requestId)?.push(end, line);
      this.#sink(`${this.#prefix}${end}\n${this.#prefix}${line}`, 'stdout');
      return;
    }
    const metrics = {
      durationMs: round2(report.durationMs),
      billedDurationMs: billed,
      memorySizeMB: report.memorySizeMb,
      maxMemoryUsedMB: report.maxMemoryUsedMb,
      ...(report.initDurationMs === undefined ? {} : { initDurationMs: round2(report.initDurationMs) }),
    };
    const error = report.errorType === undefined ? {} : { errorType: report.errorType };
    const done = this.#platformLine('platform.runtimeDone', {
      requestId: report.requestId,
      status: report.status,
      ...error,
      metrics: { durationMs: metrics.durationMs },
    });
    const line = this.#platformLine('platform.report', { requestId: report.requestId, metrics, status: report.status, ...error });
    this.#taps.get(report.requestId)?.push(done, line);
    this.#sink(`${done}\n${line}`, 'stdout');
  }

  /** A line the function wrote through `console`. */
  functionLine(record: FunctionLogRecord): void {
    if (this.#format === 'text') {
      this.#text(`${record.timestamp}\t${record.requestId ?? 'undefined'}\t${record.level}\t${record.message}`, record.requestId);
      return;
    }
    const structured = this.#structured(record.message, record.level, record.requestId);
    if (structured !== undefined) {
      if (record.requestId !== undefined) this.#taps.get(record.requestId)?.push(structured);
      this.#sink(structured, 'stdout');
      return;
    }
    const requestId = record.requestId === undefined ? {} : { requestId: record.requestId };
    const line = JSON.stringify({
      timestamp: record.timestamp,
      level: record.level,
      ...requestId,
      message: record.message,
      functionName: this.#functionName,
    });
    if (record.requestId !== undefined) this.#taps.get(record.requestId)?.push(line);
    this.#sink(line, 'stdout');
  }

  /** Lambda's line when it stops an invocation at the function timeout. */
  timedOut(requestId: string, timeoutSeconds: number): void {
    const message = `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
    if (this.#format === 'text') this.#text(`${new Date().toISOString()} ${requestId} ${message}`, requestId);
    else this.functionLine({ timestamp: new Date().toISOString(), level: 'ERROR', requestId, message });
  }

  /** Lambda's lines when the runtime process ends during an invocation. */
  runtimeExited(requestId: string, exit: string, errorType: string): void {
    const message = `RequestId: ${requestId} Error: Runtime exited with error: ${exit}\n${errorType}`;
    if (this.#format === 'text') {
      for (const line of message.split('\n')) this.#text(line, requestId);
    } else this.functionLine({ timestamp: new Date().toISOString(), level: 'ERROR', requestId, message });
  }

  /**
   * Output the function wrote around `console` (process.stdout directly, a crash's stack): as is.
   * `requestId`: the invocation running in the environment that wrote it, if any.
   */
  raw(line: string, stream: 'stdout' | 'stderr', requestId?: string): void {
    const level = stream === 'stderr' ? 'ERROR' : 'INFO';
    const text =
      this.#format === 'text'
        ? line
        : (this.#structured(line, level, requestId) ??
          JSON.stringify({ timestamp: new Date().toISOString(), level, message: line, functionName: this.#functionName }));
    if (requestId !== undefined) this.#taps.get(requestId)?.push(text);
    this.#sink(this.#format === 'text' ? `${this.#prefix}${text}` : text, stream);
  }

  /**
   * A line that is itself a JSON object (Powertools' structured lines) as Lambda's JSON format
   * keeps it: the object, not a string inside one, with its own level (Powertools writes WARN
   * and ERROR to stderr, INFO to stdout: the stream says nothing more). What it lacks of the
   * record's fields is added: `level` (from the stream or console method), `requestId`, and the
   * runtime's `functionName`. `undefined` for any other line.
   */
  #structured(line: string, level: string, requestId: string | undefined): string | undefined {
    const text = line.trim();
    if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    const own = typeof record['level'] === 'string' ? record['level'].toUpperCase() : undefined;
    return JSON.stringify({
      ...record,
      level: own ?? level,
      ...(requestId === undefined || 'requestId' in record ? {} : { requestId }),
      ...('functionName' in record ? {} : { functionName: this.#functionName }),
    });
  }

  #text(line: string, requestId?: string): void {
    if (requestId !== undefined) this.#taps.get(requestId)?.push(line);
    this.#sink(`${this.#prefix}${line}`, 'stdout');
  }

  #platform(type: string, record: Record<string, unknown>, requestId?: string): void {
    const line = this.#platformLine(type, record);
    if (requestId !== undefined) this.#taps.get(requestId)?.push(line);
    this.#sink(line, 'stdout');
  }

  #platformLine(type: string, record: Record<string, unknown>): string {
    return JSON.stringify({ time: new Date().toISOString(), type, record, functionName: this.#functionName });
  }
}

/**
 * Lambda bills each invocation rounded up to the millisecond and, since August 2025, bills the
 * init phase of on-demand environments too: a cold start's Billed Duration includes it.
 */
export function billedDurationMs(report: Pick<InvocationReport, 'durationMs' | 'initDurationMs'>): number {
  return Math.max(1, Math.ceil(report.durationMs + (report.initDurationMs ?? 0)));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The runtime's own notes (not Lambda's): warnings and lifecycle, on stderr. */
export class RuntimeNotes {
  readonly #sink: LogSink;
  readonly #once = new Set<string>();

  constructor(sink: LogSink) {
    this.#sink = sink;
  }

  note(message: string): void {
    this.#sink(`[local-runtime] ${message}`, 'stderr');
  }

  /** Notes `message` the first time `key` is seen, never again. */
  once(key: string, message: string): void {
    if (this.#once.has(key)) return;
    this.#once.add(key);
    this.note(message);
  }
}
