// The system the smoke test runs against in tests: the local runtime (API Gateway + Lambda
// environments as child processes + access points as directories) serving the apps' built
// declarations, as `pnpm start` serves them, with the demo model installed the way start.mjs does.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { defineFunction, type AccessPointSpec, type FunctionSpec, type RouteKey } from '@lambda-efs/function-spec';
import { startLocalApi, type LocalApi } from '@lambda-efs/local-runtime';
import { accessPoint as messageAccessPoint, functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
// The local variant, as start.mjs serves it (it may fetch from 127.0.0.1; uploads do not care).
import { accessPoint as mlAccessPoint, localFunctionDefinition as mlInference } from '@lambda-efs/ml-inference/function';
import { functionDefinition as web } from '@lambda-efs/web/function';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** ml-inference's `model:demo` command, built: what `pnpm start` runs before serving. */
const MODEL_DEMO = join(require.resolve('@lambda-efs/ml-inference/function'), '..', 'cli', 'model-demo.js');

/** The smoke CLI, built (the root script `pnpm smoke` runs the same file). */
const SMOKE_BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export { messageWall, mlInference, web };

/** A stub function of these tests (tests/fixtures/<file>), answering on `routes`. */
export function stubFunction(name: string, file: string, routes: RouteKey[], overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return defineFunction({ name, entry: new URL(`../fixtures/${file}`, import.meta.url), routes, timeoutSeconds: 5, ...overrides });
}

export interface TestSystem {
  readonly api: LocalApi;
  readonly url: string;
  readonly efsRoot: string;
  /** Every log line of the runtime and its environments so far (printed when a test fails). */
  readonly logs: string[];
  close(): Promise<void>;
}

export interface SystemOptions {
  /** Install the demo model first (as `pnpm start` does). @default true */
  readonly model?: boolean;
  /** @default message-wall, ml-inference and web, as declared (what `pnpm start` serves) */
  readonly functions?: readonly FunctionSpec[];
  readonly accessPoints?: readonly AccessPointSpec[];
  /** Serve these functions from deployment zips (function name → zip path), as Lambda runs them. */
  readonly packages?: ReadonlyMap<string, string>;
}

/** Starts the local runtime on a free port over a fresh EFS root in a temporary directory. */
export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const dir = await mkdtemp(join(tmpdir(), 'smoke-system-'));
  // The environments run as the access points' user (1001) when the tests run as root.
  await chmod(dir, 0o755);
  const efsRoot = join(dir, 'efs');
  if (options.model ?? true) await run(process.execPath, [MODEL_DEMO, '--efs-root', efsRoot]);
  const logs: string[] = [];
  const api = await startLocalApi({
    functions: options.functions ?? [messageWall, mlInference, web],
    accessPoints: options.accessPoints ?? [messageAccessPoint, mlAccessPoint],
    efsRoot,
    port: 0,
    watch: false,
    logSink: (line) => logs.push(line),
    ...(options.packages === undefined ? {} : { packages: options.packages }),
  });
  return {
    api,
    url: api.url,
    efsRoot,
    logs,
    close: async () => {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the smoke CLI as a real child process (the same Node.js as the tests). Its environment is
 * the tests' without GITHUB_ACTIONS (CI may set it), plus `env`.
 */
export async function runSmokeCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  const { GITHUB_ACTIONS: _ignored, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, [SMOKE_BIN, ...args], {
      timeout: 120_000,
      maxBuffer: 4 * 1024 * 1024,
      env: { ...inherited, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; signal?: string | null };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
