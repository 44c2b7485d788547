import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defineFunction, type FunctionSpec } from '@lambda-efs/function-spec';
import { startLocalApi, type LocalApi } from '@lambda-efs/local-runtime';

import { accessPoint, functionDefinition } from '../../src/function.js';
import { DIST_HANDLER } from './workers.js';

/**
 * The message-wall declaration, unchanged but for `overrides`, with its entry on the built
 * handler (imported from src/, the declaration would point at src/handler.js).
 */
export function builtFunction(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return defineFunction({ ...functionDefinition, entry: DIST_HANDLER, ...overrides });
}

export interface WallApi {
  readonly api: LocalApi;
  /** The wall file of the top-level wall: `<efsRoot>/message/content`. */
  readonly wallFile: string;
  /** The access point's directory, standing for /mnt/msg. */
  readonly mountDir: string;
  /** Every log line of the runtime and the environments so far. */
  readonly lines: string[];
  close(): Promise<void>;
}

/** Starts the local runtime (API Gateway + Lambda environments + access point) serving the message wall. */
export async function startWallApi(overrides: Partial<FunctionSpec> = {}): Promise<WallApi> {
  const dir = mkdtempSync(join(tmpdir(), 'message-wall-api-'));
  // Environments run as the access point's user (uid 1001) when the tests run as root.
  chmodSync(dir, 0o755);
  const lines: string[] = [];
  const api = await startLocalApi({
    functions: [builtFunction(overrides)],
    accessPoints: [accessPoint],
    efsRoot: join(dir, 'efs'),
    port: 0,
    watch: false,
    logSink: (line) => lines.push(...line.split('\n')),
  });
  const mountDir = join(api.efsRoot, 'message');
  return {
    api,
    wallFile: join(mountDir, 'content'),
    mountDir,
    lines,
    close: async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

/** One HTTP request, as curl would send it. */
export async function http(url: string, init: { method?: string; body?: string; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.contentType !== undefined) headers['content-type'] = init.contentType;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/**
 * Polls `check` until it is true; fails naming `what` after `timeoutMs`. Tests wait on events this
 * way rather than for fixed times: the deadline is generous (a CI machine running every package's
 * suite at once can be many times slower than an idle one), and a working system makes it short.
 */
export async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
