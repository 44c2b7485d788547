import { randomUUID } from 'node:crypto';

import type { FunctionDefinition } from '@lambda-efs/function-spec';

import { PLATFORM_LIMITS } from '../limits.js';
import type { FunctionLogger, RuntimeNotes } from '../logs/logger.js';
import { ExecutionEnvironment, type EnvironmentSpec } from './environment.js';
import type { ErrorShape, FunctionResult } from './protocol.js';

/**
 * How long an environment stays idle before it is frozen. The delay keeps the stop/continue pair
 * (two signals, two context switches: a sixth of the throughput) off environments reused at once
 * under load; one left idle is frozen all the same, as Lambda freezes it.
 */
export const FREEZE_DELAY_MS = 10;

const SHUTTING_DOWN: ErrorShape = { errorType: 'Runtime.Unavailable', errorMessage: 'The local runtime is shutting down.' };

/** What the fronts (HTTP API, Invoke API) learn of an invocation. */
export type PoolOutcome =
  | { readonly kind: 'result'; readonly requestId: string; readonly result: FunctionResult; readonly log?: readonly string[] }
  /** Every environment busy at the concurrency cap: Lambda's 429, which API Gateway turns into a 500. */
  | { readonly kind: 'throttled' }
  /**
   * Handler error, init failure, timeout, crash or oversized result: API Gateway's 500, and the
   * Invoke API's function error (`error` is the payload Lambda returns with `X-Amz-Function-Error`).
   */
  | { readonly kind: 'failed'; readonly requestId: string; readonly error: ErrorShape; readonly log?: readonly string[] };

/** Options of one invocation. */
export interface InvokeOptions {
  /** Keep the invocation's log lines and return them in the outcome (`log`). @default false */
  readonly tail?: boolean;
}

export interface PoolSettings {
  readonly definition: FunctionDefinition;
  /** Most environments at once: the reserved concurrency, or the runtime's default. */
  readonly maxEnvironments: number;
  /** Pause idle environments (SIGSTOP), as Lambda freezes them. */
  readonly freeze: boolean;
  readonly logger: FunctionLogger;
  readonly notes: RuntimeNotes;
  /** Prepares what a new environment needs (its access point directory…) and describes it. */
  readonly prepare: () => Promise<EnvironmentSpec>;
}

/**
 * The execution environments of one function. An invocation takes an idle environment (the
 * most recently used: its caches are warmest), or starts a new one only when all are busy and
 * the cap allows; otherwise it is throttled at once, as Lambda does for synchronous calls.
 */
export class FunctionPool {
  readonly #settings: PoolSettings;
  readonly #all = new Set<ExecutionEnvironment>();
  readonly #idle: ExecutionEnvironment[] = [];
  // Environments started before the code last changed are retired when they next come back.
  readonly #generationOf = new WeakMap<ExecutionEnvironment, number>();
  #generation = 0;
  #starting = 0;
  #throttles = 0;
  #freezeTimer: NodeJS.Timeout | undefined;
  #throttleNotedAt = 0;
  #closed = false;
  // Why the last environment could not be started (reported to Invoke API callers).
  #startError: ErrorShape | undefined;

  constructor(settings: PoolSettings) {
    this.#settings = settings;
  }

  /** Environments alive now (idle, busy or initializing). */
  get size(): number {
    return this.#all.size + this.#starting;
  }

  /** Process ids of the environments alive now. */
  get pids(): number[] {
    return [...this.#all].flatMap((environment) => (environment.pid === undefined ? [] : [environment.pid]));
  }

  /** Runs one invocation of the function with `event`. Never rejects. */
  async invoke(event: unknown, traceId: string, options: InvokeOptions = {}): Promise<PoolOutcome> {
    if (options.tail !== true) return this.#invoke(event, traceId, randomUUID());
    const requestId = randomUUID();
    this.#settings.logger.tap(requestId);
    const outcome = await this.#invoke(event, traceId, requestId);
    const log = this.#settings.logger.untap(requestId);
    return outcome.kind === 'throttled' ? outcome : { ...outcome, log };
  }

  async #invoke(event: unknown, traceId: string, requestId: string): Promise<PoolOutcome> {
    const { definition, logger } = this.#settings;
    if (this.#closed) return { kind: 'failed', requestId, error: SHUTTING_DOWN };
    let environment = this.#idle.pop();
    const cold = environment === undefined;
    if (environment === undefined) {
      if (this.size >= this.#settings.maxEnvironments) {
        this.#noteThrottle();
        return { kind: 'throttled' };
      }
      const started = await this.#start();
      if (started === undefined) return { kind: 'failed', requestId, error: this.#startError ?? SHUTTING_DOWN };
      environment = started;
    }

    let initDurationMs: number | undefined;
    const timeoutMs = definition.timeoutSeconds * 1000;
    // Set when init ran past Lambda's limit: the invocation's clock then started at that moment.
    let retriedInit: { readonly startedAt: number; readonly deadline: number } | undefined;
    if (cold) {
      logger.initStart(`nodejs:${definition.runtime.slice(6, 8)}.local`, 'on-demand');
      let init = await Promise.race([environment.ready, environment.initOverdue]);
      if (init === 'overdue') {
        // Past the 10 s init limit, Lambda reports the init's timeout and retries it at this first
        // invocation, under the function timeout. Here the same init goes on rather than starting
        // over (redoing it would only slow a busy machine further), within the function timeout.
        logger.initReport(environment.initTimeoutMs, 'timeout', undefined);
        logger.start(requestId);
        retriedInit = { startedAt: performance.now(), deadline: Date.now() + timeoutMs };
        init = (await settledWithin(environment.ready, timeoutMs)) ?? 'overdue';
        if (init === 'overdue') {
          logger.timedOut(requestId, definition.timeoutSeconds);
          logger.endAndReport({
            requestId,
            durationMs: timeoutMs,
            memorySizeMb: definition.memoryMb,
            maxMemoryUsedMb: 0,
            status: 'timeout',
          });
          await this.#discard(environment);
          return { kind: 'failed', requestId, error: timedOut(requestId, definition.timeoutSeconds) };
        }
      }
      if (!init.ok) {
        logger.initReport(init.initMs, init.status, init.error?.errorType);
        if (retriedInit === undefined) logger.start(requestId);
        logger.endAndReport({
          requestId,
          durationMs: 0,
          memorySizeMb: definition.memoryMb,
          maxMemoryUsedMb: 0,
          initDurationMs: init.initMs,
          status: 'error',
          errorType: init.error?.errorType ?? 'Runtime.Unknown',
        });
        await this.#discard(environment);
        return {
          kind: 'failed',
          requestId,
          error: init.error ?? { errorType: 'Runtime.Unknown', errorMessage: `RequestId: ${requestId} Error: init failed` },
        };
      }
      // A retried init is part of the invocation (its Duration), not an Init Duration.
      if (retriedInit === undefined) initDurationMs = init.initMs;
    }

    if (retriedInit === undefined) logger.start(requestId);
    // The time a retried init took within the invocation counts in its duration.
    const retryMs = retriedInit === undefined ? 0 : performance.now() - retriedInit.startedAt;
    const deadline = retriedInit?.deadline ?? Date.now() + timeoutMs;
    const outcome = await environment.invoke(
      { t: 'invoke', id: requestId, event, deadline, trace: `${traceId};Sampled=0` },
      Math.max(0, deadline - Date.now()),
    );
    const report = {
      requestId,
      memorySizeMb: definition.memoryMb,
      maxMemoryUsedMb: Math.round(environment.maxRssKb / 1024),
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
    };
    switch (outcome.kind) {
      case 'result': {
        // A result that crossed as a value is under the limit (the environment checked a bound).
        const bytes = 'json' in outcome.result ? Buffer.byteLength(outcome.result.json) : 0;
        if (bytes > PLATFORM_LIMITS.resultPayloadMaxBytes) {
          // Lambda refuses the result; the environment itself is fine.
          logger.functionLine({
            timestamp: new Date().toISOString(),
            level: 'ERROR',
            requestId,
            message: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${PLATFORM_LIMITS.resultPayloadMaxBytes} bytes).`,
          });
          logger.endAndReport({
            ...report,
            durationMs: retryMs + outcome.durationMs,
            status: 'error',
            errorType: 'Function.ResponseSizeTooLarge',
          });
          this.#release(environment);
          return {
            kind: 'failed',
            requestId,
            error: {
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: `Response payload size exceeded maximum allowed payload size (${PLATFORM_LIMITS.resultPayloadMaxBytes} bytes).`,
            },
          };
        }
        logger.endAndReport({ ...report, durationMs: retryMs + outcome.durationMs, status: 'success' });
        this.#release(environment);
        return { kind: 'result', requestId, result: outcome.result };
      }
      case 'error':
        logger.endAndReport({ ...report, durationMs: retryMs + outcome.durationMs, status: 'error' });
        this.#release(environment);
        return { kind: 'failed', requestId, error: outcome.error };
      case 'timeout':
        logger.timedOut(requestId, definition.timeoutSeconds);
        logger.endAndReport({ ...report, durationMs: retryMs + outcome.durationMs, status: 'timeout' });
        await this.#discard(environment);
        return { kind: 'failed', requestId, error: timedOut(requestId, definition.timeoutSeconds) };
      case 'crash':
        logger.runtimeExited(requestId, outcome.exit, 'Runtime.ExitError');
        logger.endAndReport({ ...report, durationMs: retryMs + outcome.durationMs, status: 'error', errorType: 'Runtime.ExitError' });
        await this.#discard(environment);
        return {
          kind: 'failed',
          requestId,
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${outcome.exit}`,
          },
        };
    }
  }

  // One note a second at most: a flood of throttles must not flood the terminal.
  #noteThrottle(): void {
    this.#throttles++;
    const now = Date.now();
    if (now - this.#throttleNotedAt < 1000) return;
    const { definition, maxEnvironments } = this.#settings;
    const cap = definition.reservedConcurrency === null ? 'the default cap' : 'its reserved concurrency';
    this.#settings.notes.note(
      `${definition.name}: ${this.#throttles} request(s) throttled — all ${maxEnvironments} environments busy ` +
        `(${cap}); HTTP API clients got 500, as from API Gateway; Invoke API callers 429.`,
    );
    this.#throttles = 0;
    this.#throttleNotedAt = now;
  }

  /** The code changed: idle environments end now, busy ones when their invocation does. */
  recycle(): void {
    this.#generation++;
    for (const environment of this.#idle.splice(0)) void this.#discard(environment);
  }

  /** Ends the environments idle since before `now - idleMs`; returns how many. */
  reapIdle(now: number, idleMs: number): number {
    const keep: ExecutionEnvironment[] = [];
    let reaped = 0;
    for (const environment of this.#idle) {
      if (now - environment.lastUsedAt >= idleMs) {
        reaped++;
        void this.#discard(environment);
      } else {
        keep.push(environment);
      }
    }
    this.#idle.splice(0, this.#idle.length, ...keep);
    return reaped;
  }

  /** Ends every environment, busy ones included, and resolves once all processes have exited. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#freezeTimer);
    this.#idle.splice(0);
    await Promise.all([...this.#all].map((environment) => environment.kill()));
  }

  // One timer for the whole pool, not one per invocation: it runs only while some idle
  // environment is not frozen yet, and freezes those idle for FREEZE_DELAY_MS.
  #scheduleFreeze(delay = FREEZE_DELAY_MS): void {
    if (this.#freezeTimer !== undefined || this.#closed) return;
    this.#freezeTimer = setTimeout(() => {
      this.#freezeTimer = undefined;
      const now = Date.now();
      let next: number | undefined;
      for (const environment of this.#idle) {
        if (environment.frozen) continue;
        const due = environment.lastUsedAt + FREEZE_DELAY_MS - now;
        if (due <= 0) environment.freeze();
        else next = Math.min(next ?? due, due);
      }
      if (next !== undefined) this.#scheduleFreeze(next);
    }, delay);
    this.#freezeTimer.unref();
  }

  /** SIGKILLs every environment at once, synchronously (the runtime is exiting). */
  killNow(): void {
    for (const environment of this.#all) environment.killNow();
  }

  async #start(): Promise<ExecutionEnvironment | undefined> {
    // Counted from before the await, so concurrent cold starts respect the cap.
    this.#starting++;
    let spec: EnvironmentSpec;
    try {
      spec = await this.#settings.prepare();
    } catch (error) {
      this.#settings.notes.note(`${this.#settings.definition.name}: cannot start an execution environment: ${(error as Error).message}`);
      this.#startError = {
        errorType: 'Runtime.Unavailable',
        errorMessage: `The local runtime could not start an execution environment: ${(error as Error).message}`,
      };
      return undefined;
    } finally {
      this.#starting--;
    }
    if (this.#closed) return undefined;
    const environment = new ExecutionEnvironment(spec, {
      log: (record) => this.#settings.logger.functionLine(record),
      raw: (line, stream) => this.#settings.logger.raw(line, stream, environment.requestId),
      exit: (exited) => {
        this.#all.delete(exited);
        const index = this.#idle.indexOf(exited);
        if (index !== -1) this.#idle.splice(index, 1);
      },
    });
    this.#all.add(environment);
    this.#generationOf.set(environment, this.#generation);
    return environment;
  }

  #release(environment: ExecutionEnvironment): void {
    if (this.#closed || !environment.alive || this.#generationOf.get(environment) !== this.#generation) {
      void this.#discard(environment);
      return;
    }
    this.#idle.push(environment);
    if (this.#settings.freeze) this.#scheduleFreeze();
  }

  async #discard(environment: ExecutionEnvironment): Promise<void> {
    const index = this.#idle.indexOf(environment);
    if (index !== -1) this.#idle.splice(index, 1);
    await environment.kill();
    this.#all.delete(environment);
  }
}

/** Lambda's function error for an invocation that ran past the function timeout. */
function timedOut(requestId: string, timeoutSeconds: number): ErrorShape {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  };
}

/** What `promise` settles with, or undefined when `ms` pass first. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
