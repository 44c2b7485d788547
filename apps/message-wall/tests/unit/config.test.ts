import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONFIG_DEFAULTS, MAX_SAFE_WALL_BYTES, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { removeMount, tempMount } from '../helpers/walls.js';

let dir: string;

beforeAll(() => {
  dir = tempMount();
});

afterAll(() => removeMount(dir));

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('needs only MESSAGE_WALL_DIR and fills the defaults', () => {
    expect(loadConfig({ MESSAGE_WALL_DIR: dir })).toEqual({ dir, ...CONFIG_DEFAULTS });
    expect(CONFIG_DEFAULTS).toMatchObject({ fileName: 'content', maxMessageBytes: 65_536 });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        MESSAGE_WALL_DIR: `${dir}/`,
        MESSAGE_WALL_FILE: 'wall.txt',
        MESSAGE_WALL_MAX_MESSAGE_BYTES: '100',
        MESSAGE_WALL_MAX_WALL_BYTES: '1000',
        MESSAGE_WALL_LOCK_STALE_MS: '500',
        MESSAGE_WALL_LOCK_TIMEOUT_MS: '1500',
        MESSAGE_WALL_MAX_WALLS: '3',
      }),
    ).toEqual({ dir, fileName: 'wall.txt', maxMessageBytes: 100, maxWallBytes: 1000, lockStaleMs: 500, lockTimeoutMs: 1500, maxWalls: 3 });
    expect(loadConfig({ MESSAGE_WALL_DIR: dir }).maxWalls).toBe(10_000);
    expect(() => loadConfig({ MESSAGE_WALL_DIR: dir, MESSAGE_WALL_MAX_WALLS: 'lots' })).toThrow(
      /^MESSAGE_WALL_MAX_WALLS is "lots": set it to a whole number/,
    );
  });

  it('keeps a full wall within Lambda’s 6 MB response even if every character is JSON-escaped', () => {
    expect(2 * MAX_SAFE_WALL_BYTES + 1_000).toBeLessThan(6_291_556);
    expect(CONFIG_DEFAULTS.maxWallBytes).toBeLessThanOrEqual(MAX_SAFE_WALL_BYTES);
  });

  const file = (): string => {
    const path = join(dir, 'a-file');
    writeFileSync(path, '');
    return path;
  };

  it.each([
    ['an empty MESSAGE_WALL_DIR', { MESSAGE_WALL_DIR: '' }, 'MESSAGE_WALL_DIR', /is not set/],
    [
      'a relative MESSAGE_WALL_DIR',
      { MESSAGE_WALL_DIR: 'mnt/msg' },
      'MESSAGE_WALL_DIR',
      /relative path: set it to the absolute mount path/,
    ],
    [
      'a MESSAGE_WALL_DIR that does not exist',
      { MESSAGE_WALL_DIR: '/nonexistent/mnt/msg' },
      'MESSAGE_WALL_DIR',
      /cannot be read.*mount the file system there/,
    ],
    ['a MESSAGE_WALL_DIR that is a file', () => ({ MESSAGE_WALL_DIR: file() }), 'MESSAGE_WALL_DIR', /not a directory/],
    ['a file name with a slash', { MESSAGE_WALL_FILE: '../content' }, 'MESSAGE_WALL_FILE', /plain file name/],
    ['a hidden file name', { MESSAGE_WALL_FILE: '.content' }, 'MESSAGE_WALL_FILE', /does not start with "\."/],
    ['a lock directory name', { MESSAGE_WALL_FILE: 'content.lock' }, 'MESSAGE_WALL_FILE', /end in "\.lock"/],
    ['the walls directory name', { MESSAGE_WALL_FILE: 'walls' }, 'MESSAGE_WALL_FILE', /is not "walls"/],
    ['a size with a unit', { MESSAGE_WALL_MAX_MESSAGE_BYTES: '64KiB' }, 'MESSAGE_WALL_MAX_MESSAGE_BYTES', /whole number from 1 to/],
    ['a message limit of 0', { MESSAGE_WALL_MAX_MESSAGE_BYTES: '0' }, 'MESSAGE_WALL_MAX_MESSAGE_BYTES', /whole number from 1/],
    [
      'a message limit as large as the wall cap',
      { MESSAGE_WALL_MAX_WALL_BYTES: '100', MESSAGE_WALL_MAX_MESSAGE_BYTES: '100' },
      'MESSAGE_WALL_MAX_MESSAGE_BYTES',
      /must fit in MESSAGE_WALL_MAX_WALL_BYTES/,
    ],
    [
      'a wall cap under the default message limit',
      { MESSAGE_WALL_MAX_WALL_BYTES: '1000' },
      'MESSAGE_WALL_MAX_MESSAGE_BYTES',
      /default 65536 is outside 1\.\.999.*set it explicitly/,
    ],
    [
      'a wall cap beyond the response limit',
      { MESSAGE_WALL_MAX_WALL_BYTES: '6000000' },
      'MESSAGE_WALL_MAX_WALL_BYTES',
      /6 MB response limit/,
    ],
    ['a negative lock timeout', { MESSAGE_WALL_LOCK_TIMEOUT_MS: '-1' }, 'MESSAGE_WALL_LOCK_TIMEOUT_MS', /whole number from 3001/],
    [
      'a lock timeout within the lease',
      { MESSAGE_WALL_LOCK_STALE_MS: '2000', MESSAGE_WALL_LOCK_TIMEOUT_MS: '2000' },
      'MESSAGE_WALL_LOCK_TIMEOUT_MS',
      /must outlast MESSAGE_WALL_LOCK_STALE_MS/,
    ],
    [
      'a lease longer than the default lock timeout',
      { MESSAGE_WALL_LOCK_STALE_MS: '8000' },
      'MESSAGE_WALL_LOCK_TIMEOUT_MS',
      /default 5000 is outside 8001\.\.900000/,
    ],
    ['a lease too short to renew', { MESSAGE_WALL_LOCK_STALE_MS: '10' }, 'MESSAGE_WALL_LOCK_STALE_MS', /whole number from 100/],
  ] as const)('fails fast on %s, naming the variable', (_case, env, variable, message) => {
    const error = failure({ MESSAGE_WALL_DIR: dir, ...(typeof env === 'function' ? env() : env) } as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable} `)).toBe(true);
    expect(error.message).toMatch(message);
    expect(error).toMatchObject({ code: 'ECONFIG', status: 500, expose: false });
  });

  it('fails on a missing MESSAGE_WALL_DIR even when nothing else is set', () => {
    expect(failure({}).variable).toBe('MESSAGE_WALL_DIR');
  });
});
