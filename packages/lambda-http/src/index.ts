export {
  httpMethodOf,
  isRecord,
  requestIds,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type InvocationContext,
} from './event.js';
export { errorFields, since, stdoutLog, type LogEntry, type LogLevel, type LogSink } from './log.js';
