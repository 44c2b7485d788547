import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FunctionLogRecord } from '../logs/logger.js';
import {
  BODY_FD,
  type BootstrapConfig,
  type ErrorShape,
  type FromEnvironment,
  type FunctionResult,
  type InvokeMessage,
} from './protocol.js';

/** Everything needed to start one execution environment. */
export interface EnvironmentSpec {
  readonly bootstrap: BootstrapConfig;
  /** The complete environment of the child: Lambda's variables and the function's own. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly execArgv: readonly string[];
  /** Run as this user and group (only when the runtime is root). */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  readonly initTimeoutMs: number;
}

/** What the environment reports while it runs. */
export interface EnvironmentEvents {
  log(record: FunctionLogRecord): void;
  raw(line: string, stream: 'stdout' | 'stderr'): void;
  exit(environment: ExecutionEnvironment): void;
}

export type InitOutcome =
  | { readonly ok: true; readonly initMs: number }
  | { readonly ok: false; readonly status: 'error'; readonly initMs: number; readonly error: ErrorShape | undefined };

export type InvokeOutcome =
  | { readonly kind: 'result'; readonly result: FunctionResult; readonly durationMs: number }
  | { readonly kind: 'error'; readonly error: ErrorShape; readonly durationMs: number }
  | { readonly kind: 'timeout'; readonly durationMs: number }
  | { readonly kind: 'crash'; readonly exit: string; readonly durationMs: number };

// Compiled, the bootstrap sits next to this module in dist/. Run from the TypeScript sources
// (vitest), this module is in src/ and the bootstrap must be taken from the build.
const BOOTSTRAP = [new URL('./bootstrap.js', import.meta.url), new URL('../../dist/environments/bootstrap.js', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path));

/** The environment bootstrap module; throws when the package has not been built. */
export function bootstrapPath(): string {
  if (BOOTSTRAP === undefined) {
    throw new Error('The execution environment bootstrap is missing: build @lambda-efs/local-runtime first (pnpm build).');
  }
  return BOOTSTRAP;
}

let readableCopy: string | undefined;

/**
 * The bootstrap where any user can read it, for environments that run as an access point's
 * user: the runtime's own checkout may sit under a private directory (a home, a mktemp dir),
 * while on AWS the runtime in /var/runtime is readable by the function's user. The bootstrap
 * imports only Node built-ins, so a copy runs anywhere; it is named by its content hash.
 */
export function readableBootstrapPath(): string {
  if (readableCopy !== undefined && existsSync(readableCopy)) return readableCopy;
  const source = bootstrapPath();
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'lambda-efs-local-runtime');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const target = join(dir, `bootstrap-${hash}.mjs`);
  if (!existsSync(target)) {
    const staged = `${target}.${process.pid}.tmp`;
    copyFileSync(source, staged);
    chmodSync(staged, 0o644);
    renameSync(staged, target);
  }
  readableCopy = target;
  return target;
}

const SIGNAL_NAMES: Readonly<Record<string, string>> = {
  SIGKILL: 'killed',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
};

interface PendingInvoke {
  readonly id: string;
  readonly startedAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: InvokeOutcome) => void;
}

/**
 * One Lambda execution environment: a child process running the bootstrap, one invocation at
 * a time. It is killed at the function timeout and after a crash, never reused after either.
 * Between invocations it can be frozen (SIGSTOP), as Lambda freezes idle environments: timers
 * and background work pause until the next invocation.
 */
export class ExecutionEnvironment {
  /** Resolves once init ended, well or not. */
  readonly ready: Promise<InitOutcome>;
  /**
   * Resolves with `'overdue'` when init has run for `initTimeoutMs` (Lambda's 10 s) without
   * ending. The process goes on: Lambda retries such an init within the first invocation.
   */
  readonly initOverdue: Promise<'overdue'>;
  /** Lambda's limit on the init phase, ms. */
  readonly initTimeoutMs: number;
  /** When it last finished an invocation (for the idle reaper). */
  lastUsedAt = Date.now();
  /** Peak resident memory so far, KiB (Lambda's "Max Memory Used"). */
  maxRssKb = 0;

  readonly #child: ChildProcess;
  readonly #events: EnvironmentEvents;
  readonly #exited: Promise<void>;
  #pending: PendingInvoke | undefined;
  #alive = true;
  #frozen = false;
  readonly #written: { readonly stdout: LineSplitter; readonly stderr: LineSplitter };
  #resolveReady: ((outcome: InitOutcome) => void) | undefined;
  // Bytes read from the body pipe, and the result message waiting for its body's bytes.
  readonly #bodyChunks: Buffer[] = [];
  #bodyReceived = 0;
  #awaitingBody: { readonly message: ResultMessage; readonly pending: PendingInvoke } | undefined;

  constructor(spec: EnvironmentSpec, events: EnvironmentEvents) {
    this.#events = events;
    const spawnedAt = performance.now();
    this.#child = fork(spec.user === undefined ? bootstrapPath() : readableBootstrapPath(), [JSON.stringify(spec.bootstrap)], {
      cwd: spec.cwd,
      env: spec.env,
      execArgv: [...spec.execArgv],
      // The fifth: the body pipe (BODY_FD), for large text bodies.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      // Structured clone, not JSON: results travel as already-serialized JSON strings (as
      // Lambda's runtime makes them), which JSON mode would escape a second time (~30% of a
      // large answer's cost).
      serialization: 'advanced',
      ...(spec.user === undefined ? {} : { uid: spec.user.uid, gid: spec.user.gid }),
    });
    this.ready = new Promise<InitOutcome>((resolve) => {
      this.#resolveReady = resolve;
    });
    this.initTimeoutMs = spec.initTimeoutMs;
    this.initOverdue = new Promise((resolve) => {
      const initTimer = setTimeout(() => resolve('overdue'), spec.initTimeoutMs);
      void this.ready.then(() => clearTimeout(initTimer));
    });

    this.#child.on('message', (message: FromEnvironment) => this.#onMessage(message));
    this.#written = {
      stdout: new LineSplitter((line) => this.#events.raw(line, 'stdout')),
      stderr: new LineSplitter((line) => this.#events.raw(line, 'stderr')),
    };
    // What escapes the bootstrap's capture (Node's fatal errors) arrives on the pipes.
    forwardLines(this.#child.stdout, (line) => this.#events.raw(line, 'stdout'));
    forwardLines(this.#child.stderr, (line) => this.#events.raw(line, 'stderr'));
    const bodyPipe = this.#child.stdio[BODY_FD] as NodeJS.ReadableStream | null | undefined;
    bodyPipe?.on('data', (chunk: Buffer) => {
      this.#bodyChunks.push(chunk);
      this.#bodyReceived += chunk.length;
      this.#settleAwaitedBody();
    });
    // A killed environment's end goes away: its half-sent body is dropped with it.
    bodyPipe?.on('error', () => {});
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#onExit(signal === null ? `exit status ${code ?? 0}` : `signal: ${SIGNAL_NAMES[signal] ?? signal}`, spawnedAt);
        resolve();
      });
      // A process that could not be spawned at all (no pid) may never emit 'exit'.
      this.#child.on('error', (error: NodeJS.ErrnoException) => {
        if (this.#child.pid !== undefined) return;
        this.#onExit(`spawn failed: ${error.code ?? error.message}`, spawnedAt);
        resolve();
      });
    });
  }

  #onExit(exit: string, spawnedAt: number): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#written.stdout.end();
    this.#written.stderr.end();
    this.#settleReady({
      ok: false,
      status: 'error',
      initMs: performance.now() - spawnedAt,
      error: { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${exit}` },
    });
    const pending = this.#pending;
    this.#awaitingBody = undefined;
    if (pending !== undefined) {
      this.#pending = undefined;
      clearTimeout(pending.timer);
      pending.resolve({ kind: 'crash', exit, durationMs: performance.now() - pending.startedAt });
    }
    this.#events.exit(this);
  }

  /** The child's process id (tests use it to tell environments apart). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /** The request id of the invocation running now, if any. */
  get requestId(): string | undefined {
    return this.#pending?.id;
  }

  /**
   * Runs one invocation; resolves with its result, the handler's error, a timeout (the process
   * is killed) or a crash. Never rejects.
   */
  invoke(message: InvokeMessage, timeoutMs: number): Promise<InvokeOutcome> {
    if (!this.#alive) return Promise.resolve({ kind: 'crash', exit: 'exit status 0', durationMs: 0 });
    if (this.#pending !== undefined) throw new Error('An execution environment runs one invocation at a time.');
    this.thaw();
    return new Promise<InvokeOutcome>((resolve) => {
      const startedAt = performance.now();
      const timer = setTimeout(() => {
        if (this.#pending?.id !== message.id) return;
        this.#pending = undefined;
        // Timers may fire a fraction of a millisecond early by performance.now()'s clock.
        resolve({ kind: 'timeout', durationMs: Math.max(timeoutMs, performance.now() - startedAt) });
        void this.kill();
      }, timeoutMs);
      this.#pending = { id: message.id, startedAt, timer, resolve };
      this.#child.send(message);
    });
  }

  /** Whether the process is paused (see {@link freeze}). */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Pauses the idle process (SIGSTOP), as Lambda freezes an idle environment. */
  freeze(): void {
    if (this.#alive && !this.#frozen && this.#pending === undefined && this.#child.kill('SIGSTOP')) this.#frozen = true;
  }

  /** Resumes a frozen process (SIGCONT). */
  thaw(): void {
    if (this.#frozen && this.#alive) this.#child.kill('SIGCONT');
    this.#frozen = false;
  }

  /** Sends SIGKILL now, without waiting: for the runtime's own exit, when nothing can be awaited. */
  killNow(): void {
    if (this.#alive) this.#child.kill('SIGKILL');
  }

  /** Ends the process (SIGKILL: works on a frozen one too) and resolves when it has exited. */
  kill(): Promise<void> {
    if (this.#alive) this.#child.kill('SIGKILL');
    return this.#exited;
  }

  #settleReady(outcome: InitOutcome): void {
    const resolve = this.#resolveReady;
    if (resolve === undefined) return;
    this.#resolveReady = undefined;
    resolve(outcome);
  }

  #onMessage(message: FromEnvironment): void {
    switch (message.t) {
      case 'log':
        this.#events.log({ timestamp: message.ts, level: message.level, requestId: message.id, message: message.msg });
        return;
      case 'out':
        this.#written[message.s].push(message.d);
        return;
      case 'ready':
        this.#settleReady({ ok: true, initMs: message.initMs });
        return;
      case 'init-error':
        this.#settleReady({ ok: false, status: 'error', initMs: message.initMs, error: message.error });
        return;
      case 'result':
      case 'error': {
        const pending = this.#pending;
        // A late answer to an invocation that already timed out: the process is being killed.
        if (pending === undefined || pending.id !== message.id) return;
        if (message.t === 'result' && message.bodyBytes !== undefined) {
          // Its body's bytes come through the body pipe: answer once they are all in.
          this.#awaitingBody = { message, pending };
          this.#settleAwaitedBody();
          return;
        }
        this.#settle(pending, message, message.t === 'result' ? message.result : undefined);
        return;
      }
    }
  }

  #settle(pending: PendingInvoke, message: ResultMessage | ErrorMessage, result: FunctionResult | undefined): void {
    // Timed out meanwhile (the process is being killed): nothing to answer.
    if (this.#pending !== pending) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    this.maxRssKb = Math.max(this.maxRssKb, message.rss);
    this.lastUsedAt = Date.now();
    pending.resolve(
      message.t === 'result'
        ? { kind: 'result', result: result ?? message.result, durationMs: message.ms }
        : { kind: 'error', error: message.error, durationMs: message.ms },
    );
  }

  /** Answers the result waiting for its body once the body pipe has delivered all its bytes. */
  #settleAwaitedBody(): void {
    const awaited = this.#awaitingBody;
    const bytes = awaited?.message.bodyBytes;
    if (awaited === undefined || bytes === undefined || this.#bodyReceived < bytes) return;
    this.#awaitingBody = undefined;
    const all = this.#bodyChunks.length === 1 ? (this.#bodyChunks[0] as Buffer) : Buffer.concat(this.#bodyChunks, this.#bodyReceived);
    this.#bodyChunks.length = 0;
    this.#bodyReceived = all.length - bytes;
    // The environment writes the next body only after the next invoke: nothing follows, but keep it right.
    if (this.#bodyReceived > 0) this.#bodyChunks.push(all.subarray(bytes));
    const value = (awaited.message.result as { readonly value: unknown }).value;
    this.#settle(awaited.pending, awaited.message, { value, body: all.subarray(0, bytes) });
  }
}

type ResultMessage = Extract<FromEnvironment, { readonly t: 'result' }>;
type ErrorMessage = Extract<FromEnvironment, { readonly t: 'error' }>;

/** Turns chunks of text into whole lines (a line may span chunks). */
class LineSplitter {
  readonly #onLine: (line: string) => void;
  #rest = '';

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: string): void {
    const lines = (this.#rest + chunk).split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) this.#onLine(line);
  }

  end(): void {
    if (this.#rest !== '') this.#onLine(this.#rest);
    this.#rest = '';
  }
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  const splitter = new LineSplitter(onLine);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => splitter.push(chunk));
  stream.on('end', () => splitter.end());
}
