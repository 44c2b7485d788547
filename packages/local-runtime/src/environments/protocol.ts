/**
 * The messages between the runtime and an execution environment's bootstrap, over the IPC
 * channel of `child_process.fork` (structured clone: strings cross it copied, not escaped).
 * Field names are short: they cross the channel on every invocation.
 */

/**
 * The environment's descriptor of the body pipe: a large text body's UTF-8 bytes go there, written
 * at once from the buffer the environment keeps, instead of being copied into the IPC message
 * (a copy into fresh memory per answer). The result message that follows says how many.
 */
export const BODY_FD = 4;

/** How the bootstrap finds the handler: passed as the child's only argument, JSON. */
export interface BootstrapConfig {
  readonly entry: string;
  readonly handlerExport: string;
  readonly runtime: string;
  /** For `context.invokedFunctionArn`. */
  readonly accountId: string;
  /** Lambda's limit on a result's JSON, bytes: a result that may exceed it travels as JSON text. */
  readonly resultMaxBytes: number;
}

/**
 * A function's result as it crosses the channel. Lambda serializes it with JSON.stringify and
 * API Gateway parses that text. A result made only of plain objects, arrays, strings, finite
 * numbers, booleans and null comes out of that round trip unchanged, so it travels as itself
 * (`value`), certainly under the size limit; anything else travels as the JSON text (`json`).
 *
 * A structured result's large text body (`{ statusCode, body: '…' }`, not base64) travels as its
 * UTF-8 bytes (`body`, with `value.body` left `''`): the channel carries bytes as they are, and
 * the HTTP front writes them to the client without ever making a string of them again (a large
 * string costs the runtime a copy into V8's heap and a UTF-8 encoding per answer).
 * {@link resultValue} puts the text back where a value is needed.
 */
export type FunctionResult = { readonly json: string } | { readonly value: unknown; readonly body?: Uint8Array };

/** The result's value as the function returned it (a body carried as bytes back in place as text). */
export function resultValue(result: { readonly value: unknown; readonly body?: Uint8Array }): unknown {
  if (result.body === undefined) return result.value;
  const body = Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength).toString('utf8');
  return { ...(result.value as Record<string, unknown>), body };
}

/** An error as Lambda reports it (`errorType`, `errorMessage`, `stack` lines). */
export interface ErrorShape {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: readonly string[];
}

/** Runtime → environment: run one invocation. */
export interface InvokeMessage {
  readonly t: 'invoke';
  /** The Lambda request id (`context.awsRequestId`). */
  readonly id: string;
  /** The event; the channel's JSON serialization carries it, so it is encoded and parsed once. */
  readonly event: unknown;
  /** The deadline, ms since the epoch: `getRemainingTimeInMillis()` counts down to it. */
  readonly deadline: number;
  /** `_X_AMZN_TRACE_ID` for this invocation. */
  readonly trace: string;
}

export type ToEnvironment = InvokeMessage;

/** Environment → runtime. */
export type FromEnvironment =
  | { readonly t: 'ready'; readonly initMs: number }
  | { readonly t: 'init-error'; readonly error: ErrorShape; readonly initMs: number }
  | { readonly t: 'log'; readonly ts: string; readonly level: string; readonly id: string | undefined; readonly msg: string }
  /** Text written to process.stdout or process.stderr directly (not through console). */
  | { readonly t: 'out'; readonly s: 'stdout' | 'stderr'; readonly d: string }
  /**
   * `ms`: handler duration; `rss`: peak resident set, KiB. `bodyBytes`: the result's text body
   * (its `value.body` left '') was written to the body pipe before this message, this many bytes.
   */
  | {
      readonly t: 'result';
      readonly id: string;
      readonly result: FunctionResult;
      readonly bodyBytes?: number;
      readonly ms: number;
      readonly rss: number;
    }
  | { readonly t: 'error'; readonly id: string; readonly error: ErrorShape; readonly ms: number; readonly rss: number };
