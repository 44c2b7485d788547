// The package's one error hierarchy. A failed smoke step is not an error (it is a result in the
// report); these are the cases where the smoke test cannot run at all.

/** Codes of {@link SmokeError}. */
export type SmokeErrorCode = 'EUSAGE' | 'EIMAGE';

/** Base of every error this package throws: a stable `code` and a message that says what to do. */
export class SmokeError extends Error {
  readonly code: SmokeErrorCode;

  constructor(code: SmokeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmokeError';
    this.code = code;
  }
}

/** A bad command line or option (base URL, --timeout, --format…). */
export class UsageError extends SmokeError {
  constructor(message: string) {
    super('EUSAGE', message);
    this.name = 'UsageError';
  }
}

/** The image to upload cannot be read or is not an image format the function accepts. */
export class ImageError extends SmokeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EIMAGE', message, options);
    this.name = 'ImageError';
  }
}
