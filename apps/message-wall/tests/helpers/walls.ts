import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig, type MessageWallConfig } from '../../src/config.js';
import { createHandler, type Handler } from '../../src/handler.js';
import type { InvocationContext } from '../../src/http.js';
import type { LogEntry } from '@lambda-efs/lambda-http';

/** A temporary directory standing for the mount path (/mnt/msg). */
export function tempMount(prefix = 'message-wall-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeMount(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The configuration the function would read, on `dir`, with extra variables. */
function testConfig(dir: string, env: Record<string, string> = {}): MessageWallConfig {
  return loadConfig({ MESSAGE_WALL_DIR: dir, ...env });
}

export interface TestHandler {
  readonly handler: Handler;
  readonly logs: LogEntry[];
}

/** A handler on `dir` whose log entries are collected instead of printed. */
export function testHandler(dir: string, env: Record<string, string> = {}): TestHandler {
  const logs: LogEntry[] = [];
  return { handler: createHandler({ config: testConfig(dir, env), log: (entry) => logs.push(entry) }), logs };
}

/** A Lambda context with a request id and a deadline `remainingMs` away. */
export function lambdaContext(awsRequestId = 'req-1', remainingMs = 10_000): InvocationContext {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId, getRemainingTimeInMillis: () => deadline - Date.now() };
}
