import { fileURLToPath } from 'node:url';

import { defineSystem, lambdaHandler } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import { accessPoint, functionDefinition } from '../../src/function.js';

describe('message-wall declaration', () => {
  it('declares the post’s access point', () => {
    expect(accessPoint).toEqual({
      name: 'message',
      rootPath: '/message',
      owner: { uid: 1001, gid: 1001 },
      permissions: '750',
      posixUser: { uid: 1001, gid: 1001 },
    });
  });

  it('declares the function with its routes, mount and limits', () => {
    const { entry: _entry, description: _description, ...rest } = functionDefinition;
    expect(rest).toEqual({
      name: 'message-wall',
      handlerExport: 'handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memoryMb: 256,
      nativeModules: { packages: [], from: 'package' },
      timeoutSeconds: 10,
      routes: ['ANY /message-wall', 'ANY /message-wall/{wall}'],
      fileSystem: { accessPoint, mountPath: '/mnt/msg', readOnly: false },
      environment: { MESSAGE_WALL_DIR: '/mnt/msg' },
      reservedConcurrency: 50,
      provisionedConcurrency: null,
    });
  });

  it('points the entry at handler.js next to the declaration module', () => {
    expect(functionDefinition.entry).toBe(fileURLToPath(new URL('../../src/handler.js', import.meta.url)));
    expect(lambdaHandler(functionDefinition)).toBe('handler.handler');
  });

  it('keeps the mounted paths in the environment under the mount path', () => {
    expect(functionDefinition.environment['MESSAGE_WALL_DIR']).toBe(functionDefinition.fileSystem?.mountPath);
  });

  it('forms a valid system on its own', () => {
    expect(defineSystem([functionDefinition]).accessPoints).toEqual([accessPoint]);
  });
});
