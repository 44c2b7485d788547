import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineAccessPoint, defineFunction, type FunctionSpec } from '@lambda-efs/function-spec';

import { startLocalApi, type HttpApiEvent, type LocalApi } from '../../src/index.js';
import type { LocalApiOptions } from '../../src/options.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const isRoot = process.getuid?.() === 0;

/**
 * The fixture handlers (they import only Node built-ins), copied where uid 1001 can read them:
 * as root, environments run as the access point's user, and a checkout under a private
 * directory (a CI clone in a mktemp dir) cannot be entered by that user.
 */
const HANDLERS = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'local-runtime-handlers-'));
  chmodSync(dir, 0o755);
  for (const name of ['handler.mjs', 'callback.mjs', 'init-error.mjs', 'invoke.mjs']) copyFileSync(join(FIXTURES, name), join(dir, name));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
})();
export const HANDLER = join(HANDLERS, 'handler.mjs');
/** A fixture handler by file name, from the readable copy. */
export function fixtureHandler(name: 'handler.mjs' | 'callback.mjs' | 'init-error.mjs' | 'invoke.mjs'): string {
  return join(HANDLERS, name);
}

/** The fixture's access point, owned by 1001 as the apps' are. */
export const dataAccessPoint = defineAccessPoint({
  name: 'data',
  rootPath: '/data',
  owner: { uid: 1001, gid: 1001 },
  permissions: '750',
});

/**
 * A function on the fixture handler, every path routed to it. Its 10 s timeout is far from what
 * its handlers take even on a loaded CI machine; tests of timeouts set a short one themselves.
 */
export function fixtureFunction(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return defineFunction({
    name: 'fixture',
    entry: HANDLER,
    routes: ['ANY /{proxy+}'],
    timeoutSeconds: 10,
    fileSystem: { accessPoint: dataAccessPoint, mountPath: '/mnt/data' },
    environment: { DATA_DIR: '/mnt/data' },
    ...overrides,
  });
}

/** A temporary directory others may enter (environments run as uid 1001 when the tests run as root). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export interface Harness {
  readonly api: LocalApi;
  readonly dir: string;
  /** Every log line so far (stdout and stderr), in order. */
  readonly lines: string[];
  close(): Promise<void>;
}

/** Starts a runtime on a free port with its logs captured and its EFS root in a temp dir. */
export async function startHarness(options: Partial<LocalApiOptions> = {}): Promise<Harness> {
  const dir = tempDir('local-runtime-');
  const lines: string[] = [];
  const api = await startLocalApi({
    functions: [fixtureFunction()],
    efsRoot: join(dir, 'efs'),
    port: 0,
    watch: false,
    logSink: (line) => lines.push(...line.split('\n')),
    ...options,
  });
  return {
    api,
    dir,
    lines,
    close: async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a process with this id still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The scheduler state of a process from /proc/<pid>/stat: 'R' running, 'S' sleeping, 'T' stopped
 * (SIGSTOP: a frozen environment), 'Z' zombie…; undefined once it is gone.
 */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: the state follows its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Polls `check` until it is true or `timeoutMs` passes: what tests wait on instead of fixed
 * sleeps. The deadline is generous (a CI machine running every package's suite at once can be
 * many times slower than an idle one); a working runtime only makes the wait short.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The body of a JSON response, typed by the caller (the fixture's answers are known). */
export async function bodyOf<T>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}

/** What the fixture's `/echo` returns. */
export interface Echo {
  readonly event: HttpApiEvent;
  readonly context: Record<string, unknown> & { readonly awsRequestId: string; readonly remaining: number };
  readonly env: Record<string, string>;
  readonly execArgv: string[];
  readonly cwd: string;
}

/** What the fixture's `/pid` returns. */
export interface PidAnswer {
  readonly pid: number;
  readonly invocations: number;
}

/** How many invocations have started (Lambda's `START` lines) among `lines`. */
export function startedInvocations(lines: readonly string[]): number {
  return lines.filter((line) => line.includes('START RequestId:')).length;
}
