/**
 * The messages between the runtime and an execution environment's bootstrap, over the IPC
 * channel of `child_process.fork` (JSON serialization: the event and result are JSON anyway).
 * Field names are short: they cross the channel on every invocation.
 */

/** How the bootstrap finds the handler: passed as the child's only argument, JSON. */
export interface BootstrapConfig {
  readonly entry: string;
  readonly handlerExport: string;
  readonly runtime: string;
  /** For `context.invokedFunctionArn`. */
  readonly accountId: string;
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
  /** `payload`: the result as JSON text; `ms`: handler duration; `rss`: peak resident set, KiB. */
  | { readonly t: 'result'; readonly id: string; readonly payload: string; readonly ms: number; readonly rss: number }
  | { readonly t: 'error'; readonly id: string; readonly error: ErrorShape; readonly ms: number; readonly rss: number };
