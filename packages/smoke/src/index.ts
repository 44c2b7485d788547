export { ImageError, SmokeError, UsageError, type SmokeErrorCode } from './errors.js';
export { exchange, excerpt, quote, type Exchange, type RequestSpec } from './http.js';
export { failureLines, formatReport, type ReportFormat } from './report.js';
export {
  CREDENTIALS_HOW_TO,
  EXECUTE_API,
  SIGN_MODES,
  createSigner,
  credentialsFromEnv,
  explainForbidden,
  signingRegion,
  type RequestSigner,
  type SignMode,
  type SigningDecision,
} from './signing.js';
export { signRequest, type AwsCredentials, type SignableRequest, type SignedRequest, type SigningParameters } from './sigv4.js';
export {
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_TIMEOUT_MS,
  DELETED,
  METHOD_UNSUPPORTED,
  NO_MESSAGE,
  RETRIED_STATUSES,
  newWallId,
  normalizeBaseUrl,
  runSmoke,
  type Attempt,
  type ClassExpectation,
  type SmokeImage,
  type SmokeOptions,
  type SmokeReport,
  type StepResult,
} from './session.js';
export { checkCsp, IMMUTABLE_MIN_MAX_AGE, judgePage, judgeScript, PAGE_EXPECTED, SCRIPT_EXPECTED, type WebVerdict } from './web.js';
export {
  escapeWorkflowData,
  main,
  parseSmokeArgs,
  readImage,
  MAX_IMAGE_BYTES,
  SAMPLE_EXPECTATION,
  SAMPLE_IMAGE,
  USAGE,
  type CliIo,
  type SmokeCliSettings,
} from './cli/main.js';
