import { join, resolve } from 'node:path';

import type { AccessPointSpec, FunctionSpec } from '@lambda-efs/function-spec';

import { startLocalApi, type LocalApi } from '../api.js';
import type { AwsCredentials } from '../environments/lambda-environment.js';
import { LocalRuntimeError } from '../errors.js';
import { CLI_USAGE, parseCliArgs, type CliSettings } from './args.js';

/** What a start script passes to {@link runLocalApi}. */
export interface RunLocalApiOptions {
  /** The command line after the script name: flags as in {@link CLI_USAGE}. */
  readonly argv: readonly string[];
  readonly functions: readonly FunctionSpec[];
  readonly accessPoints?: readonly AccessPointSpec[];
  /** Settings the command line and environment may override (e.g. the repository's `.efs`). */
  readonly defaults?: CliSettings;
  /** Usage line shown above the options by `--help`. @default 'Usage: lambda-efs-local [options]' */
  readonly usage?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The directory `--bundles` without a value serves. @default 'infra/cdktf.out/bundles' (from the current directory) */
  readonly bundlesDir?: string;
  /** Credentials set in every environment (see `LocalApiOptions.credentials`). */
  readonly credentials?: AwsCredentials;
}

/** Where `--bundles` looks by default, relative to the current directory (the repository root). */
export const DEFAULT_BUNDLES_DIR = join('infra', 'cdktf.out', 'bundles');

/**
 * The command-line front of {@link startLocalApi}: parses flags and environment, starts the
 * API, prints its URL and routes, and closes it (every environment ended) on SIGINT or SIGTERM.
 * A {@link LocalRuntimeError} is printed as its message alone and sets exit code 1.
 * @returns the running API, or `undefined` when it printed help or an error.
 */
export async function runLocalApi(options: RunLocalApiOptions): Promise<LocalApi | undefined> {
  let api: LocalApi;
  try {
    const command = parseCliArgs(options.argv, options.env);
    if (command.kind === 'help') {
      console.log(`${options.usage ?? 'Usage: lambda-efs-local [options]'}\n\n${CLI_USAGE}`);
      return undefined;
    }
    const bundlesDir =
      command.bundles === undefined
        ? undefined
        : resolve(command.bundles === true ? (options.bundlesDir ?? DEFAULT_BUNDLES_DIR) : command.bundles);
    api = await startLocalApi({
      ...options.defaults,
      ...command.settings,
      functions: options.functions,
      ...(options.accessPoints === undefined ? {} : { accessPoints: options.accessPoints }),
      ...(bundlesDir === undefined ? {} : { packages: packagesIn(bundlesDir, options.functions) }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  } catch (error) {
    if (!(error instanceof LocalRuntimeError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return undefined;
  }

  const unrouted = api.functions.filter((definition) => definition.routes.length === 0).map((definition) => definition.name);
  const invokeOnly = api.invokeUrl === undefined ? '(not invocable)' : '(Invoke API only)';
  const width = Math.max(0, invokeOnly.length, ...api.routes.map((route) => route.routeKey.length));
  // One write: a reader of the pipe (a script, a test) gets the URLs and the routes together.
  const lines = [
    `Local API on ${api.url} (EFS root ${api.efsRoot})`,
    ...api.routes.map((route) => `  ${route.routeKey.padEnd(width)}  -> ${route.functionName}`),
    ...unrouted.map((name) => `  ${invokeOnly.padEnd(width)}  -> ${name}`),
  ];
  if (api.invokeUrl !== undefined) {
    const example = unrouted[0] ?? api.functions[0]?.name ?? '<function>';
    lines.push(
      `Lambda Invoke API on ${api.invokeUrl} (every function): aws lambda invoke --endpoint-url ${api.invokeUrl} --function-name ${example} out.json`,
    );
  }
  for (const [name, dir] of api.taskDirectories) lines.push(`  ${name}: deployment package extracted in ${dir}`);
  process.stdout.write(`${lines.join('\n')}\nCtrl-C stops it.\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer.
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping (ending every execution environment)…`);
    void api.close().then(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return api;
}

/** `<dir>/<function>/handler.zip` for each function (their existence is checked by startLocalApi). */
function packagesIn(dir: string, functions: readonly FunctionSpec[]): Map<string, string> {
  const packages = new Map<string, string>();
  for (const spec of functions) {
    const name = (spec as { name?: unknown }).name;
    if (typeof name === 'string') packages.set(name, join(dir, name, 'handler.zip'));
  }
  return packages;
}
