import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('reads the mount, the bucket, path style and the limits', () => {
    expect(
      loadConfig({
        PROVISION_ROOT: '/mnt/ml/',
        ARTIFACT_BUCKET: 'my-artifacts',
        ARTIFACT_PREFIX: 'releases/',
        S3_FORCE_PATH_STYLE: 'true',
        PROVISION_MAX_ENTRIES: '10',
      }),
    ).toEqual({
      root: '/mnt/ml',
      artifactBucket: 'my-artifacts',
      artifactPrefix: 'releases/',
      s3ForcePathStyle: true,
      limits: { maxBytes: 10 * 1024 ** 3, maxEntries: 10, maxPathLength: 255 },
    });
  });

  it('leaves the bucket unset (install then refuses every artifact)', () => {
    expect(loadConfig({ PROVISION_ROOT: '/mnt/ml' }).artifactBucket).toBeUndefined();
  });

  it.each([
    [{}, 'PROVISION_ROOT', /is not set/],
    [{ PROVISION_ROOT: 'mnt/ml' }, 'PROVISION_ROOT', /absolute path/],
    [{ PROVISION_ROOT: '/mnt/ml', ARTIFACT_BUCKET: 'Not_A_Bucket' }, 'ARTIFACT_BUCKET', /bucket name/],
    [{ PROVISION_ROOT: '/mnt/ml', S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE', /"true" or "false"/],
    [{ PROVISION_ROOT: '/mnt/ml', PROVISION_MAX_BYTES: '-1' }, 'PROVISION_MAX_BYTES', /positive integer/],
  ])('names the variable that is wrong: %j', (env, variable, message) => {
    const error = (() => {
      try {
        loadConfig(env);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(message);
  });
});
