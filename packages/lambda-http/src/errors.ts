/** Options of a {@link FunctionError}. */
export interface FunctionErrorOptions {
  readonly cause?: unknown;
  /** @default status < 500 */
  readonly expose?: boolean;
  /** Response headers that belong to this error (`allow`, `retry-after`). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The level of the request's log line. A 5xx that is the client's condition, not a failure
   * (a full wall, 507), passes 'WARN' so that it does not page anyone.
   * @default status >= 500 ? 'ERROR' : 'WARN'
   */
  readonly logLevel?: 'WARN' | 'ERROR';
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
  readonly logLevel: 'WARN' | 'ERROR';

  constructor(code: Code, status: number, message: string, options: FunctionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FunctionError';
    this.code = code;
    this.status = status;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
    this.logLevel = options.logLevel ?? (status >= 500 ? 'ERROR' : 'WARN');
  }
}

/** The codes of the errors the adapter itself raises, the same for every function. */
export type HttpErrorCode = 'ENOTHTTP' | 'EMETHOD' | 'EBODY' | 'EINTERNAL';

/** The function was invoked with something that is not an API Gateway HTTP API (payload 2.0) event. */
export class NotHttpEventError extends FunctionError<HttpErrorCode> {
  constructor(example: string) {
    super(
      'ENOTHTTP',
      400,
      `This function answers API Gateway HTTP API requests (payload format 2.0): call it through its HTTP endpoint, for example ${example}.`,
    );
    this.name = 'NotHttpEventError';
  }
}

/** A method the function has no route for: 405 with the methods it has in `Allow`. */
export class MethodNotAllowedError extends FunctionError<HttpErrorCode> {
  readonly method: string;

  constructor(method: string, allowed: readonly string[], message?: string) {
    super('EMETHOD', 405, message ?? `Method ${method} is not supported: use ${allowed.join(' or ')}.`, {
      headers: { allow: allowed.join(', ') },
    });
    this.name = 'MethodNotAllowedError';
    this.method = method;
  }
}

/** The body could not be decoded (bad base64, invalid UTF-8, a replacement character in a text body). */
export class InvalidBodyError extends FunctionError<HttpErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EBODY', 400, message, options);
    this.name = 'InvalidBodyError';
  }
}

/** Anything unexpected. Not shown to the client; logged with its cause. */
export class InternalError extends FunctionError<HttpErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINTERNAL', 500, message, { ...options, expose: false });
    this.name = 'InternalError';
  }
}

/** The `code` of a Node.js system error (`ENOENT`…), or undefined. */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
