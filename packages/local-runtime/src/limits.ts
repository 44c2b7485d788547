/**
 * The platform limits the local runtime enforces, as AWS documents them (API Gateway HTTP API
 * and Lambda quotas). One place, so tests and docs name the same numbers.
 */
export const PLATFORM_LIMITS = Object.freeze({
  /** API Gateway HTTP API: request payload. */
  requestBodyMaxBytes: 10 * 1024 * 1024,
  /** API Gateway HTTP API: request line and headers together. */
  requestHeaderMaxBytes: 10_240,
  /** Lambda synchronous invocation: the event (request payload). */
  invokePayloadMaxBytes: 6 * 1024 * 1024,
  /** Lambda asynchronous invocation (`Event`): the event; 256 KB until October 2025, 1 MB since. */
  asyncInvokePayloadMaxBytes: 1024 * 1024,
  /** Lambda synchronous invocation: the function's result (Lambda's message says 6291556 bytes). */
  resultPayloadMaxBytes: 6 * 1024 * 1024 + 100,
  /** API Gateway's integration timeout: the client gets 503 after this, whatever the function timeout. */
  integrationTimeoutMs: 30_000,
  /** Lambda's init phase: an environment whose init takes longer fails. */
  initTimeoutMs: 10_000,
});
