export {
  httpMethodOf,
  isRecord,
  requestIds,
  stringField,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type InvocationContext,
} from './event.js';
export { errorFields, since, stdoutLog, type LogEntry, type LogLevel, type LogSink } from './log.js';
export { FunctionError, type FunctionErrorOptions } from './errors.js';
