import { isAbsolute, normalize } from 'node:path';

import type { ExtractLimits } from './archive/extract.js';
import { DEFAULT_EXTRACT_LIMITS } from './archive/extract.js';
import { ConfigError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The function's settings, read once from the environment at cold start by {@link loadConfig}. */
export interface ProvisionerConfig {
  /**
   * Where the access point is mounted (`PROVISION_ROOT`, required): targets such as
   * `models/demo` are directories under it.
   * @example '/mnt/ml'
   */
  readonly root: string;
  /**
   * The only bucket artifacts are read from (`ARTIFACT_BUCKET`). Unset: install refuses every
   * artifact (activate, rollback and prune still work).
   * @default undefined
   */
  readonly artifactBucket: string | undefined;
  /**
   * Artifact keys must start with this (`ARTIFACT_PREFIX`), matching what the role may read.
   * @default ''
   */
  readonly artifactPrefix: string;
  /**
   * Path-style S3 URLs (`S3_FORCE_PATH_STYLE=true`), for a local S3 server at
   * `AWS_ENDPOINT_URL_S3` (which the SDK reads itself, as it reads `AWS_REGION`).
   * @default false
   */
  readonly s3ForcePathStyle: boolean;
  /** Hard limits on one archive (`PROVISION_MAX_BYTES`, `PROVISION_MAX_ENTRIES`, `PROVISION_MAX_PATH_LENGTH`). */
  readonly limits: ExtractLimits;
}

/**
 * Reads the configuration from `env`.
 * @throws {ConfigError} naming the variable and the value it needs.
 */
export function loadConfig(env: Env = process.env): ProvisionerConfig {
  const rawRoot = env['PROVISION_ROOT'];
  if (rawRoot === undefined || rawRoot === '')
    throw new ConfigError('PROVISION_ROOT', 'is not set: set it to where the access point is mounted (e.g. /mnt/ml).');
  if (!isAbsolute(rawRoot)) throw new ConfigError('PROVISION_ROOT', `must be an absolute path, not "${rawRoot}".`);
  const bucket = env['ARTIFACT_BUCKET'];
  if (bucket !== undefined && bucket !== '' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError('ARTIFACT_BUCKET', `must be an S3 bucket name, not "${bucket}".`);
  }
  return {
    root: normalize(rawRoot).replace(/(?<=.)\/$/, ''),
    artifactBucket: bucket === undefined || bucket === '' ? undefined : bucket,
    artifactPrefix: env['ARTIFACT_PREFIX'] ?? '',
    s3ForcePathStyle: booleanVar(env, 'S3_FORCE_PATH_STYLE', false),
    limits: {
      maxBytes: integerVar(env, 'PROVISION_MAX_BYTES', DEFAULT_EXTRACT_LIMITS.maxBytes),
      maxEntries: integerVar(env, 'PROVISION_MAX_ENTRIES', DEFAULT_EXTRACT_LIMITS.maxEntries),
      maxPathLength: integerVar(env, 'PROVISION_MAX_PATH_LENGTH', DEFAULT_EXTRACT_LIMITS.maxPathLength),
    },
  };
}

function booleanVar(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `must be "true" or "false", not "${value}".`);
}

function integerVar(env: Env, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new ConfigError(name, `must be a positive integer, not "${value}".`);
  return number;
}
