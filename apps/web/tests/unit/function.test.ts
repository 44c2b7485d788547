import { fileURLToPath } from 'node:url';

import { defineSystem, lambdaHandler } from '@lambda-efs/function-spec';
import { functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
import { functionDefinition as mlInference } from '@lambda-efs/ml-inference/function';
import { describe, expect, it } from 'vitest';

import { functionDefinition } from '../../src/function.js';

describe('web declaration', () => {
  it('declares GET and HEAD for the page and its assets, small, arm64, without a file system', () => {
    const { entry: _entry, description: _description, ...rest } = functionDefinition;
    // toMatchObject: fields function-spec may add later (with their defaults) do not concern this test.
    expect(rest).toMatchObject({
      name: 'web',
      handlerExport: 'handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memoryMb: 128,
      timeoutSeconds: 3,
      routes: ['GET /', 'HEAD /', 'GET /assets/{proxy+}', 'HEAD /assets/{proxy+}'],
      fileSystem: null,
      environment: {},
      reservedConcurrency: null,
      provisionedConcurrency: null,
    });
  });

  it('points the entry at handler.js next to the declaration module', () => {
    expect(functionDefinition.entry).toBe(fileURLToPath(new URL('../../src/handler.js', import.meta.url)));
    expect(lambdaHandler(functionDefinition)).toBe('handler.handler');
  });

  it('shares one HTTP API with the message wall and the classifier without a route conflict', () => {
    const system = defineSystem([functionDefinition, messageWall, mlInference]);
    expect(system.routes.filter((route) => route.functionName === 'web').map((route) => route.routeKey)).toEqual([
      'GET /',
      'HEAD /',
      'GET /assets/{proxy+}',
      'HEAD /assets/{proxy+}',
    ]);
  });
});
