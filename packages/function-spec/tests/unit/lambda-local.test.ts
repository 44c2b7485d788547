import { describe, expect, it } from 'vitest';

import { LAMBDA_BUNDLE_FILE_NAME, defineFunction, lambdaHandler, localAccessPointDir, localEnvironment } from '../../src/index.js';
import { messageAccessPointSpec } from './fixtures.js';

describe('lambdaHandler', () => {
  it('names the export inside the handler.mjs bundle', () => {
    expect(LAMBDA_BUNDLE_FILE_NAME).toBe('handler.mjs');
    expect(lambdaHandler(defineFunction({ name: 'f', entry: '/srv/x/handler.js' }))).toBe('handler.handler');
    expect(lambdaHandler(defineFunction({ name: 'f', entry: '/srv/x/main.js', handlerExport: 'main' }))).toBe('handler.main');
  });
});

describe('localAccessPointDir', () => {
  it('places the access point root under the local file system root', () => {
    expect(localAccessPointDir('/repo/.efs', { rootPath: '/message' })).toBe('/repo/.efs/message');
    expect(localAccessPointDir('/repo/.efs/', { rootPath: '/a/b' })).toBe('/repo/.efs/a/b');
  });
});

describe('localEnvironment', () => {
  const definition = defineFunction({
    name: 'f',
    entry: '/srv/x/handler.js',
    fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/msg' },
    environment: {
      MESSAGE_WALL_DIR: '/mnt/msg',
      MESSAGE_FILE: '/mnt/msg/content',
      OTHER_MOUNT: '/mnt/msgs/x',
      MODE: 'fast',
    },
  });

  it('rebases values at or under the mount path and keeps the others', () => {
    expect(localEnvironment(definition, '/repo/.efs/message')).toEqual({
      MESSAGE_WALL_DIR: '/repo/.efs/message',
      MESSAGE_FILE: '/repo/.efs/message/content',
      OTHER_MOUNT: '/mnt/msgs/x',
      MODE: 'fast',
    });
  });

  it('keeps the environment of a function without file system', () => {
    const plain = defineFunction({ name: 'f', entry: '/srv/x/handler.js', environment: { DIR: '/mnt/msg' } });
    expect(localEnvironment(plain, '/repo/.efs/message')).toEqual({ DIR: '/mnt/msg' });
  });
});
