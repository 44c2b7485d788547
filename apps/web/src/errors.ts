/**
 * One error hierarchy for the package, rooted in lambda-http's FunctionError: a stable `code`, the
 * HTTP `status` the handler answers with, and `expose` (whether the message, which then says what
 * to do, may be shown to the client).
 */
import { FunctionError, type FunctionErrorOptions } from '@lambda-efs/lambda-http';

export type WebErrorCode = 'ENOTHTTP' | 'EMETHOD' | 'ENOTFOUND' | 'EINTERNAL';

export class WebError extends FunctionError<WebErrorCode> {
  constructor(code: WebErrorCode, status: number, message: string, options: FunctionErrorOptions = {}) {
    super(code, status, message, options);
    this.name = 'WebError';
  }
}

/** The function was invoked with something that is not an API Gateway HTTP API (payload 2.0) event. */
export class NotHttpEventError extends WebError {
  constructor() {
    super(
      'ENOTHTTP',
      400,
      'This function serves the web page through API Gateway HTTP API requests (payload format 2.0): open its HTTP endpoint, for example https://<api>/.',
    );
    this.name = 'NotHttpEventError';
  }
}

export const ALLOWED_METHODS = ['GET', 'HEAD'] as const;

/** A method other than GET or HEAD (only reachable if the routes are widened to ANY). */
export class MethodNotAllowedError extends WebError {
  readonly method: string;

  constructor(method: string) {
    super('EMETHOD', 405, `Method ${method} is not supported here: the page and its assets answer GET and HEAD.`, {
      headers: { allow: ALLOWED_METHODS.join(', ') },
    });
    this.name = 'MethodNotAllowedError';
    this.method = method;
  }
}

/** No asset of that name: hashed names change with every build, so an old page may ask for a gone one. */
export class AssetNotFoundError extends WebError {
  readonly asset: string;

  constructor(asset: string) {
    super(
      'ENOTFOUND',
      404,
      `No asset named ${JSON.stringify(asset.slice(0, 80))}. Asset names carry a hash of their content and change with every deployment: reload the page (/) to get the current ones.`,
    );
    this.name = 'AssetNotFoundError';
    this.asset = asset;
  }
}

/** Anything unexpected. Not shown to the client; logged with its cause. */
export class InternalError extends WebError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINTERNAL', 500, message, { ...options, expose: false });
    this.name = 'InternalError';
  }
}
