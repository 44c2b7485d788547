export {
  httpMethodOf,
  isRecord,
  requestIds,
  stringField,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type InvocationContext,
} from './event.js';
export { addLogContext, errorFields, functionLog, since, stdoutLog, type LogEntry, type LogLevel, type LogSink } from './log.js';
export {
  FunctionError,
  InternalError,
  InvalidBodyError,
  MethodNotAllowedError,
  NotHttpEventError,
  systemErrorCode,
  type FunctionErrorOptions,
  type HttpErrorCode,
} from './errors.js';
export { bodyBytes, bodyText, firstInvalidUtf8, type TooLarge } from './body.js';
export {
  budget,
  httpFunction,
  jsonResponse,
  textResponse,
  type HttpFunctionOptions,
  type HttpHandler,
  type HttpRequest,
  type Route,
} from './adapter.js';
