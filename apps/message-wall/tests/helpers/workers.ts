import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../integration/fixtures/wall-worker.mjs', import.meta.url));
export const DIST_HANDLER = fileURLToPath(new URL('../../dist/handler.js', import.meta.url));

export interface WorkerMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * A real child process standing for one execution environment (see fixtures/wall-worker.mjs).
 * Messages it sends are queued; `next()` returns them in order, `onMessage` sees them as they come.
 */
export class Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly #queue: WorkerMessage[] = [];
  readonly #waiting: Array<(message: WorkerMessage) => void> = [];
  readonly #listeners: Array<(message: WorkerMessage) => void> = [];

  constructor(scenario: string, options: Record<string, unknown>, env: Record<string, string>) {
    if (!existsSync(DIST_HANDLER)) {
      throw new Error(`${DIST_HANDLER} is missing: build first (pnpm --filter @lambda-efs/message-wall build).`);
    }
    this.child = fork(WORKER, [scenario, JSON.stringify(options)], {
      env: { ...process.env, ...env },
      // The handler's JSON logs go to stdout: drop them, keep stderr for crashes.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: WorkerMessage) => {
      for (const listener of this.#listeners) listener(message);
      if (message.type === 'snapshot' || message.type === 'ack' || message.type === 'refused') return;
      const waiter = this.#waiting.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  onMessage(listener: (message: WorkerMessage) => void): void {
    this.#listeners.push(listener);
  }

  /** The next message (acks and snapshots go to onMessage only); a worker's error fails the test here. */
  async next(): Promise<WorkerMessage> {
    const message =
      this.#queue.shift() ??
      (await new Promise<WorkerMessage>((resolve, reject) => {
        this.#waiting.push(resolve);
        void this.exited.then((code) => reject(new Error(`worker exited with ${code} before answering`)));
      }));
    if (message.type === 'error') throw new Error(`worker failed: ${String(message['message'])}`);
    return message;
  }

  async expect(type: string): Promise<WorkerMessage> {
    const message = await this.next();
    if (message.type !== type) throw new Error(`expected '${type}' from the worker, got ${JSON.stringify(message)}`);
    return message;
  }

  send(message: string): void {
    if (this.child.connected) this.child.send(message);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/** Waits until every worker has loaded the handler, then releases them at once. */
export async function startTogether(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.expect('ready')));
  for (const worker of workers) worker.send('go');
}
