/**
 * One error hierarchy for the package, rooted in lambda-http's FunctionError: a stable `code`, the
 * HTTP `status` the handler answers with, and `expose` (whether the message, which then says what
 * to do, may be shown to the client).
 */
import { FunctionError, type FunctionErrorOptions } from '@lambda-efs/lambda-http';

export type MlInferenceErrorCode =
  | 'ECONFIG'
  | 'EREQUEST'
  | 'ELOOP'
  | 'EURL'
  | 'EHOSTNOTALLOWED'
  | 'EADDRESS'
  | 'EFETCH'
  | 'EFETCHTIMEOUT'
  | 'EREDIRECTS'
  | 'ETOOLARGE'
  | 'EEMPTY'
  | 'EMEDIATYPE'
  | 'ESVG'
  | 'EPIXELS'
  | 'EIMAGE'
  | 'ENOMODEL'
  | 'EMODEL'
  | 'ENATIVE'
  | 'EINFERENCE'
  | 'EINTERNAL';

export class MlInferenceError extends FunctionError<MlInferenceErrorCode> {
  constructor(code: MlInferenceErrorCode, status: number, message: string, options: FunctionErrorOptions = {}) {
    super(code, status, message, options);
    this.name = 'MlInferenceError';
  }
}

/** The environment is missing a variable or has an invalid value. Thrown at cold start. */
export class ConfigError extends MlInferenceError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('ECONFIG', 500, `${variable} ${message}`, { ...options, expose: false });
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** A missing or malformed parameter or body. */
export class InvalidRequestError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EREQUEST', 400, message, options);
    this.name = 'InvalidRequestError';
  }
}

/** The image URL cannot be used: not http(s), credentials, unparsable, too long. */
export class InvalidUrlError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EURL', 400, message, options);
    this.name = 'InvalidUrlError';
  }
}

/** The URL's host (or a redirect's) is not on the configured allow-list. */
export class HostNotAllowedError extends MlInferenceError {
  constructor(host: string) {
    super(
      'EHOSTNOTALLOWED',
      403,
      `Images can only be fetched from the allowed hosts, and ${host} is not one of them. Upload the image with POST instead.`,
    );
    this.name = 'HostNotAllowedError';
  }
}

/** The host resolves to an address this function never connects to (SSRF protection). */
export class ForbiddenAddressError extends MlInferenceError {
  readonly address: string;
  readonly reason: string;

  constructor(host: string, address: string, reason: string) {
    const via = host === address ? address : `${host} (${address})`;
    super(
      'EADDRESS',
      403,
      `Refusing to fetch from ${via}: it is ${withArticle(reason)} address, and only public internet addresses can be fetched. ` +
        'Use a publicly reachable image URL, or upload the image with POST.',
    );
    this.name = 'ForbiddenAddressError';
    this.address = address;
    this.reason = reason;
  }
}

/**
 * The image URL leads back to this API (its own host, directly or after a redirect), or this
 * request is itself a fetch made by the function (it carries {@link HOP_HEADER}): following it
 * would make the function call itself, over and over.
 */
export class SelfFetchError extends MlInferenceError {
  constructor(message: string, status: 400 | 508 = 400) {
    super('ELOOP', status, message, { expose: true, logLevel: 'WARN' });
    this.name = 'SelfFetchError';
  }
}

/** The header the function adds to its own image fetches; a request that carries it is refused (508). */
export const HOP_HEADER = 'x-lambda-efs-hop';

/** The image could not be fetched: DNS, connection, TLS, or a non-2xx answer. */
export class FetchFailedError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EFETCH', 422, message, options);
    this.name = 'FetchFailedError';
  }
}

export class FetchTimeoutError extends MlInferenceError {
  constructor(timeoutMs: number, url: string) {
    super(
      'EFETCHTIMEOUT',
      422,
      `Fetching ${url} took longer than ${timeoutMs} ms and was stopped. Use a faster host, or upload the image with POST.`,
    );
    this.name = 'FetchTimeoutError';
  }
}

export class TooManyRedirectsError extends MlInferenceError {
  constructor(maxRedirects: number) {
    super('EREDIRECTS', 422, `The image URL redirected more than ${maxRedirects} times. Use the image's final URL.`);
    this.name = 'TooManyRedirectsError';
  }
}

/** The image is larger than the byte limit (announced or counted while streaming). */
export class ImageTooLargeError extends MlInferenceError {
  constructor(what: string, maxBytes: number) {
    super('ETOOLARGE', 413, `${what} is larger than the limit of ${maxBytes} bytes. Send a smaller image (resize or recompress it).`);
    this.name = 'ImageTooLargeError';
  }
}

export class EmptyImageError extends MlInferenceError {
  constructor(what: string) {
    super('EEMPTY', 400, `${what} is empty (0 bytes). Send a JPEG, PNG, WebP, GIF, AVIF or TIFF image.`);
    this.name = 'EmptyImageError';
  }
}

/** Not an image format this function reads (judged by the content's first bytes). */
export class UnsupportedMediaTypeError extends MlInferenceError {
  constructor(message: string) {
    super('EMEDIATYPE', 415, message);
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** SVG is refused unless IMAGE_ALLOW_SVG is set (it is a document format, not pixels). */
export class SvgRefusedError extends MlInferenceError {
  constructor() {
    super('ESVG', 415, 'SVG images are not accepted: convert the image to PNG or JPEG and send that.');
    this.name = 'SvgRefusedError';
  }
}

/** More pixels than allowed: a decompression bomb, or just too big to classify. */
export class TooManyPixelsError extends MlInferenceError {
  constructor(width: number | undefined, height: number | undefined, maxPixels: number) {
    const size = width !== undefined && height !== undefined ? `${width}×${height} pixels` : 'The image';
    super('EPIXELS', 413, `${size} is more than the limit of ${maxPixels} pixels. Scale the image down and send it again.`);
    this.name = 'TooManyPixelsError';
  }
}

/** Truncated or corrupt image data. */
export class CorruptImageError extends MlInferenceError {
  constructor(format: string, detail: string, options?: { cause?: unknown }) {
    super(
      'EIMAGE',
      422,
      `The ${format} image could not be decoded (${detail}): it is truncated or corrupt. Send the complete file.`,
      options,
    );
    this.name = 'CorruptImageError';
  }
}

/** No model is installed where the function looks: 503 with how to install one. */
export class ModelNotInstalledError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENOMODEL', 503, message, { ...options, expose: true, headers: { 'retry-after': '30' } });
    this.name = 'ModelNotInstalledError';
  }
}

/** The installed model cannot be used (missing files, label count, input shape, bad model.json). */
export class ModelInvalidError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EMODEL', 503, message, { ...options, expose: true, headers: { 'retry-after': '30' } });
    this.name = 'ModelInvalidError';
  }
}

/** onnxruntime-node or sharp could not be loaded (from NODE_MODULES_DIR or the bundle). */
export class NativeLibraryError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENATIVE', 503, message, { ...options, expose: true, headers: { 'retry-after': '30' } });
    this.name = 'NativeLibraryError';
  }
}

/** onnxruntime failed on a run, or produced non-finite scores. Not shown to the client. */
export class InferenceError extends MlInferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINFERENCE', 500, message, { ...options, expose: false });
    this.name = 'InferenceError';
  }
}

/** "a loopback", "an unspecified": the article for a category in a sentence. */
function withArticle(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

// One copy for every function: lambda-http's.
export { systemErrorCode } from '@lambda-efs/lambda-http';
