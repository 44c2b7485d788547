/** Options of a {@link FunctionError}. */
export interface FunctionErrorOptions {
  readonly cause?: unknown;
  /** @default status < 500 */
  readonly expose?: boolean;
  /** Response headers that belong to this error (`allow`, `retry-after`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What the root of each function's error hierarchy shares. Every error has a stable `code`, the
 * HTTP `status` the handler answers with, and `expose`: whether its message may be shown to the
 * client (the message then says what to do). Errors with `expose: false` are logged with their
 * cause, and the client gets a generic message with the request id instead.
 */
export class FunctionError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly status: number;
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: Code, status: number, message: string, options: FunctionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FunctionError';
    this.code = code;
    this.status = status;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
  }
}
