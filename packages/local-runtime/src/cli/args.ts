import { parseArgs } from 'node:util';

import { InvalidOptionError } from '../errors.js';
import type { LocalApiOptions } from '../options.js';

/** The options a command line can set (everything but the declarations, the log sink, packages and credentials). */
export type CliSettings = Omit<LocalApiOptions, 'functions' | 'accessPoints' | 'routes' | 'logSink' | 'packages' | 'credentials'>;

export type CliCommand =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly settings: CliSettings;
      readonly modules: readonly string[];
      /**
       * `--bundles`: serve deployment packages from `<dir>/<function>/handler.zip`; `true` when
       * no directory was given (the caller's default); `undefined` without the flag.
       */
      readonly bundles?: string | true;
    };

/** The Invoke API's port when the command line names none (and `--port` is not 0). */
export const DEFAULT_INVOKE_PORT = 3001;

/** Each flag's environment variable: a flag wins over its variable. */
export const CLI_ENVIRONMENT = Object.freeze({
  port: 'LOCAL_RUNTIME_PORT',
  host: 'LOCAL_RUNTIME_HOST',
  'efs-root': 'LOCAL_RUNTIME_EFS_ROOT',
  'log-format': 'LOCAL_RUNTIME_LOG_FORMAT',
  concurrency: 'LOCAL_RUNTIME_CONCURRENCY',
  'idle-timeout': 'LOCAL_RUNTIME_IDLE_TIMEOUT',
  'invoke-port': 'LOCAL_RUNTIME_INVOKE_PORT',
});

export const CLI_USAGE = `Options (each also read from the environment variable shown):
  --port <n>            TCP port, 0 for any free one            LOCAL_RUNTIME_PORT     (default 3000)
  --invoke-port <n>     Lambda Invoke API port, 0 for none      LOCAL_RUNTIME_INVOKE_PORT
                        (default 3001; any free port when --port is 0)
  --bundles [dir]       serve the deployment packages <dir>/<function>/handler.zip instead of
                        the built entries (default dir: infra/cdktf.out/bundles; --bundles=<dir>
                        when a declaration module follows)
  --host <address>      address to bind                         LOCAL_RUNTIME_HOST     (default 127.0.0.1)
  --allow-remote        allow a non-loopback --host (no authentication: think twice)
  --efs-root <dir>      directory standing in for EFS           LOCAL_RUNTIME_EFS_ROOT (default ./.efs)
  --log-format <fmt>    text or json (Lambda's formats)         LOCAL_RUNTIME_LOG_FORMAT (default text)
  --concurrency <n>     environments per function without reserved concurrency
                                                                LOCAL_RUNTIME_CONCURRENCY (default 10)
  --idle-timeout <s>    end environments idle this long         LOCAL_RUNTIME_IDLE_TIMEOUT (default 300)
  --no-watch            do not recycle environments when the built code changes
  --no-freeze           do not pause idle environments (SIGSTOP) between invocations
  -h, --help            this text`;

/**
 * Parses the command line (flags, then environment variables, then defaults).
 * @throws {InvalidOptionError} for an unknown flag or a bad value.
 */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliCommand {
  const { rest, bundles } = takeBundles(argv);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: 'string' },
        'invoke-port': { type: 'string' },
        host: { type: 'string' },
        'allow-remote': { type: 'boolean' },
        'efs-root': { type: 'string' },
        'log-format': { type: 'string' },
        concurrency: { type: 'string' },
        'idle-timeout': { type: 'string' },
        'no-watch': { type: 'boolean' },
        'no-freeze': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new InvalidOptionError('command line', `${(error as Error).message}\n${CLI_USAGE}`, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  const value = (flag: keyof typeof CLI_ENVIRONMENT): string | undefined => {
    const given = values[flag];
    return typeof given === 'string' ? given : env[CLI_ENVIRONMENT[flag]];
  };
  const settings: { -readonly [K in keyof CliSettings]: CliSettings[K] } = {};
  const port = value('port');
  if (port !== undefined) settings.port = wholeNumber('--port', port);
  const host = value('host');
  if (host !== undefined) settings.host = host;
  if (values['allow-remote'] === true) settings.allowRemote = true;
  const efsRoot = value('efs-root');
  if (efsRoot !== undefined) settings.efsRoot = efsRoot;
  const logFormat = value('log-format');
  if (logFormat !== undefined) {
    if (logFormat !== 'text' && logFormat !== 'json') {
      throw new InvalidOptionError('--log-format', `"${logFormat}" is neither "text" nor "json"`);
    }
    settings.logFormat = logFormat;
  }
  const concurrency = value('concurrency');
  if (concurrency !== undefined) settings.defaultConcurrency = wholeNumber('--concurrency', concurrency);
  const idle = value('idle-timeout');
  if (idle !== undefined) settings.idleTimeoutMs = wholeNumber('--idle-timeout', idle) * 1000;
  if (values['no-watch'] === true) settings.watch = false;
  if (values['no-freeze'] === true) settings.freeze = false;
  const invokePort = value('invoke-port');
  if (invokePort === undefined) settings.invokePort = settings.port === 0 ? 0 : DEFAULT_INVOKE_PORT;
  else if (wholeNumber('--invoke-port', invokePort) !== 0) settings.invokePort = Number(invokePort);
  return { kind: 'run', settings, modules: positionals, ...(bundles === undefined ? {} : { bundles }) };
}

/**
 * `--bundles` takes an optional directory, which node:util's parseArgs cannot express: the next
 * argument is the directory unless it is a flag or a declaration module (a .js/.mjs/.cjs file).
 */
function takeBundles(argv: readonly string[]): { rest: string[]; bundles: string | true | undefined } {
  const rest: string[] = [];
  let bundles: string | true | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg.startsWith('--bundles=')) {
      const dir = arg.slice('--bundles='.length);
      if (dir === '') throw new InvalidOptionError('--bundles', 'give a directory after "=", or no "=" for the default');
      bundles = dir;
    } else if (arg === '--bundles') {
      const next = argv[index + 1];
      if (next !== undefined && !next.startsWith('-') && !/\.[cm]?js$/.test(next)) {
        bundles = next;
        index++;
      } else {
        bundles = true;
      }
    } else {
      rest.push(arg);
    }
  }
  return { rest, bundles };
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidOptionError(flag, `"${text}" is not a whole number`);
  return Number(text);
}
