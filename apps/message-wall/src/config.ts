import { statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';

import { ConfigError } from './errors.js';

/** The function's settings, read once from the environment at cold start by {@link loadConfig}. */
export interface MessageWallConfig {
  /**
   * Where the file system is mounted (`MESSAGE_WALL_DIR`, required). The top-level wall is
   * `<dir>/<file>`, the per-user walls `<dir>/walls/<id>/<file>`.
   * @example '/mnt/msg'
   */
  readonly dir: string;
  /**
   * The wall file's name (`MESSAGE_WALL_FILE`).
   * @default 'content' (the post's file)
   */
  readonly fileName: string;
  /**
   * Largest message, in UTF-8 bytes (`MESSAGE_WALL_MAX_MESSAGE_BYTES`); larger ones get 413.
   * @default 65536
   */
  readonly maxMessageBytes: number;
  /**
   * Cap of one wall, in bytes of its file, newlines included (`MESSAGE_WALL_MAX_WALL_BYTES`); a POST
   * that would pass it gets 507. At most {@link MAX_SAFE_WALL_BYTES}.
   * @default 2097152 (2 MiB)
   */
  readonly maxWallBytes: number;
  /**
   * Lease length of the wall's lock (`MESSAGE_WALL_LOCK_STALE_MS`): how long after an environment
   * died holding the lock (killed at its timeout) the others take it over.
   * @default 3000
   */
  readonly lockStaleMs: number;
  /**
   * Longest wait for the wall's lock before answering 503 (`MESSAGE_WALL_LOCK_TIMEOUT_MS`); more than
   * `lockStaleMs`, so a waiter can take over the lock of an environment that died holding it. The
   * handler shortens it further so it always answers before the invocation's deadline.
   * @default 5000
   */
  readonly lockTimeoutMs: number;
  /**
   * Most per-user walls (`MESSAGE_WALL_MAX_WALLS`): a POST that would create one more gets 507, so
   * one client cannot fill the file system with walls. A wall exists from its first POST until an
   * operator removes its directory (DELETE empties it but keeps it). 0 allows none.
   * @default 10000
   */
  readonly maxWalls: number;
}

/**
 * Lambda refuses synchronous responses over 6 MB (6,291,556 bytes), and the runtime sends the body
 * JSON-encoded, where `"` and `\` take two bytes. Messages hold no other character that JSON
 * escapes (control characters are refused), so a wall of up to 3,000,000 bytes always fits in a
 * GET or POST answer, whatever it contains.
 */
export const MAX_SAFE_WALL_BYTES = 3_000_000;

export const CONFIG_DEFAULTS = Object.freeze({
  fileName: 'content',
  maxMessageBytes: 65_536,
  maxWallBytes: 2_097_152,
  lockStaleMs: 3_000,
  lockTimeoutMs: 5_000,
  maxWalls: 10_000,
});

const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

/**
 * Reads and checks the configuration. Throws {@link ConfigError} naming the first bad variable and
 * saying how to fix it, so a misconfigured function fails at cold start, not on a request.
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): MessageWallConfig {
  const dir = readDir(env, 'MESSAGE_WALL_DIR');
  const fileName = readFileName(env, 'MESSAGE_WALL_FILE');
  const maxWallBytes = readInteger(
    env,
    'MESSAGE_WALL_MAX_WALL_BYTES',
    CONFIG_DEFAULTS.maxWallBytes,
    2,
    MAX_SAFE_WALL_BYTES,
    'larger walls could not be returned within Lambda’s 6 MB response limit',
  );
  const maxMessageBytes = readInteger(
    env,
    'MESSAGE_WALL_MAX_MESSAGE_BYTES',
    CONFIG_DEFAULTS.maxMessageBytes,
    1,
    maxWallBytes - 1,
    'a message and its newline must fit in MESSAGE_WALL_MAX_WALL_BYTES',
  );
  const lockStaleMs = readInteger(
    env,
    'MESSAGE_WALL_LOCK_STALE_MS',
    CONFIG_DEFAULTS.lockStaleMs,
    100,
    60_000,
    'shorter leases cannot be renewed reliably, longer ones block a wall for minutes after a crash',
  );
  // A waiter takes over the lease of a holder that died only after watching it unrenewed for
  // lockStaleMs, within one wait: a shorter wait could never free a wall whose holder was killed.
  const lockTimeoutMs = readInteger(
    env,
    'MESSAGE_WALL_LOCK_TIMEOUT_MS',
    CONFIG_DEFAULTS.lockTimeoutMs,
    lockStaleMs + 1,
    900_000,
    'a waiter must outlast MESSAGE_WALL_LOCK_STALE_MS to take over the lock of an environment that died holding it',
  );
  const maxWalls = readInteger(
    env,
    'MESSAGE_WALL_MAX_WALLS',
    CONFIG_DEFAULTS.maxWalls,
    0,
    10_000_000,
    'each wall is a directory of the file system; counting more at each creation gets slow',
  );
  return Object.freeze({ dir, fileName, maxMessageBytes, maxWallBytes, lockStaleMs, lockTimeoutMs, maxWalls });
}

function readDir(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigError(name, 'is not set: set it to the mount path of the message file system (the declaration mounts it at /mnt/msg).');
  }
  if (!isAbsolute(value)) {
    throw new ConfigError(name, `is "${value}", a relative path: set it to the absolute mount path, for example /mnt/msg.`);
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(value).isDirectory();
  } catch (error) {
    throw new ConfigError(name, `is "${value}", which cannot be read (${String(error)}): mount the file system there, or fix the path.`, {
      cause: error,
    });
  }
  if (!isDirectory) {
    throw new ConfigError(name, `is "${value}", which is not a directory: set it to the mount path of the message file system.`);
  }
  // Trailing slashes and "." segments would only make paths in logs differ.
  return normalize(value).replace(/(.)\/+$/, '$1');
}

function readFileName(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') return CONFIG_DEFAULTS.fileName;
  // "walls" is the per-user walls' directory; "<name>.lock" is the lock directory of "<name>".
  if (!FILE_NAME.test(value) || value.endsWith('.lock') || value === 'walls') {
    throw new ConfigError(
      name,
      `is "${value}": use a plain file name of letters, digits, ".", "-" and "_" that does not start with "." or end in ".lock" and is not "walls", or leave it unset for "content".`,
    );
  }
  return value;
}

function readInteger(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  why: string,
): number {
  const value = env[name];
  if (value === undefined || value === '') {
    if (fallback < min || fallback > max) {
      throw new ConfigError(name, `is unset and its default ${fallback} is outside ${min}..${max} (${why}): set it explicitly.`);
    }
    return fallback;
  }
  const parsed = /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(
      name,
      `is "${value}": set it to a whole number from ${min} to ${max} (${why}), or unset it for the default ${fallback}.`,
    );
  }
  return parsed;
}
