import type { AccessPointSpec, FunctionSpec } from '@lambda-efs/function-spec';

import { startLocalApi, type LocalApi } from '../api.js';
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
}

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
    api = await startLocalApi({
      ...options.defaults,
      ...command.settings,
      functions: options.functions,
      ...(options.accessPoints === undefined ? {} : { accessPoints: options.accessPoints }),
    });
  } catch (error) {
    if (!(error instanceof LocalRuntimeError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return undefined;
  }

  const width = Math.max(...api.routes.map((route) => route.routeKey.length));
  // One write: a reader of the pipe (a script, a test) gets the URL and the routes together.
  const routes = api.routes.map((route) => `  ${route.routeKey.padEnd(width)}  -> ${route.functionName}\n`).join('');
  process.stdout.write(`Local API on ${api.url} (EFS root ${api.efsRoot})\n${routes}Ctrl-C stops it.\n`);

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
