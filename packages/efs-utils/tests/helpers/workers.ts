import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../integration/fixtures/lock-worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface WorkerMessage {
  type: string;
  [key: string]: unknown;
}

/** A real child process running the built library (see fixtures/lock-worker.mjs). */
export class Worker {
  readonly child: ChildProcess;
  readonly #messages: WorkerMessage[] = [];
  readonly #waiting: Array<(message: WorkerMessage) => void> = [];
  readonly exited: Promise<number | null>;

  constructor(scenario: string, options: Record<string, unknown>) {
    if (!existsSync(DIST)) {
      throw new Error(`${DIST} is missing: build the package first (pnpm --filter @lambda-efs/efs-utils build).`);
    }
    this.child = fork(WORKER, [scenario, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: WorkerMessage) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(message);
      else this.#messages.push(message);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The next message; a worker's error is rethrown here so the test fails with it. */
  async next(): Promise<WorkerMessage> {
    const message =
      this.#messages.shift() ??
      (await new Promise<WorkerMessage>((resolve, reject) => {
        this.#waiting.push(resolve);
        void this.exited.then((code) => reject(new Error(`worker exited with ${code} before answering`)));
      }));
    if (message.type === 'error') throw new Error(`worker failed: ${String(message['message'])}`);
    return message;
  }

  /** Resolves once the worker has loaded the library and listens. */
  async ready(): Promise<void> {
    const message = await this.next();
    if (message.type !== 'ready') throw new Error(`expected 'ready' from the worker, got ${message.type}`);
  }

  send(message: unknown): void {
    this.child.send(message as never);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/**
 * Milliseconds on the clock the workers report in (fixtures/lock-worker.mjs): CLOCK_MONOTONIC,
 * one clock for every process of this host. performance.timeOrigin is taken per process and
 * differs by up to 12 ms between processes (measured), too coarse to compare holders' intervals.
 */
export function hostNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Waits until every worker has loaded the library, then releases them at once. */
export async function startTogether(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.ready()));
  for (const worker of workers) worker.send('go');
}

/**
 * When a holder held the lock: [start, end, kept], kept being whether its lease was still its own
 * after `end` (assertHeld passed). A holder starved past its lease on a loaded machine may be
 * taken over, and the library's promise is only that assertHeld() then tells it.
 */
export type Interval = [number, number, boolean?];

/** Pairs of intervals that overlap (touching ends do not count) while both leases were kept. */
export function overlaps(a: readonly Interval[], b: readonly Interval[]): number {
  let count = 0;
  for (const [s1, e1, kept1] of a) {
    for (const [s2, e2, kept2] of b) if (kept1 !== false && kept2 !== false && s1 < e2 && s2 < e1) count++;
  }
  return count;
}

/** Resolves once `check` holds, polling every 10 ms; fails after `timeoutMs` (a generous bound, not a timing target). */
export async function eventually(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
