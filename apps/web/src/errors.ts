/**
 * The package's error hierarchy, rooted in lambda-http's FunctionError: a stable `code`, the HTTP
 * `status` the handler answers with, and `expose` (whether the message, which then says what to
 * do, may be shown to the client). The shared adapter raises the generic ones (ENOTHTTP, EMETHOD,
 * EINTERNAL); this package adds what only a static site has.
 */
import { FunctionError, type FunctionErrorOptions } from '@lambda-efs/lambda-http';

export type WebErrorCode = 'ENOTFOUND';

class WebError extends FunctionError<WebErrorCode> {
  constructor(code: WebErrorCode, status: number, message: string, options: FunctionErrorOptions = {}) {
    super(code, status, message, options);
    this.name = 'WebError';
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
