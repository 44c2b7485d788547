import { fileURLToPath } from 'node:url';

import { defineSystem, lambdaHandler } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import { NATIVE_PACKAGES } from '../../src/core/native.js';
import { accessPoint, functionDefinition, localFunctionDefinition } from '../../src/function.js';

describe('ml-inference declaration', () => {
  it('declares the post’s access point', () => {
    expect(accessPoint).toEqual({
      name: 'ml',
      rootPath: '/ml',
      owner: { uid: 1001, gid: 1001 },
      permissions: '750',
      posixUser: { uid: 1001, gid: 1001 },
    });
  });

  it('declares the function with the post’s memory and timeout and a read-only mount', () => {
    const { entry: _entry, description: _description, ...rest } = functionDefinition;
    expect(rest).toEqual({
      name: 'ml-inference',
      handlerExport: 'handler',
      runtime: 'nodejs22.x',
      architecture: 'x86_64',
      memoryMb: 3008,
      timeoutSeconds: 29,
      routes: ['GET /ml-inference', 'POST /ml-inference'],
      fileSystem: { accessPoint, mountPath: '/mnt/inference', readOnly: true },
      environment: { MODEL_DIR: '/mnt/inference/models', MODEL_NAME: 'demo', IMAGE_FETCH_ALLOWED_PORTS: '80,443' },
      reservedConcurrency: null,
      provisionedConcurrency: null,
      nativeModules: { packages: ['onnxruntime-node', 'sharp'], from: 'package' },
    });
  });

  it('points the entry at handler.js next to the declaration module', () => {
    expect(functionDefinition.entry).toBe(fileURLToPath(new URL('../../src/handler.js', import.meta.url)));
    expect(lambdaHandler(functionDefinition)).toBe('handler.handler');
  });

  it('keeps the model directory under the mount path', () => {
    expect(functionDefinition.environment['MODEL_DIR']?.startsWith(`${functionDefinition.fileSystem?.mountPath}/`)).toBe(true);
  });

  it('ships the native libraries native.ts loads in the deployment package, so sets no NODE_MODULES_DIR', () => {
    expect(functionDefinition.nativeModules).toEqual({ packages: [...NATIVE_PACKAGES], from: 'package' });
    expect(functionDefinition.environment['NODE_MODULES_DIR']).toBeUndefined();
  });

  it('lets only the local variant fetch from private networks and from any port (deployed: the 80 and 443 infra opens)', () => {
    expect(functionDefinition.environment['IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS']).toBeUndefined();
    const { IMAGE_FETCH_ALLOWED_PORTS: ports, ...anyPort } = functionDefinition.environment;
    expect(ports).toBe('80,443');
    expect(localFunctionDefinition.environment).toEqual({ ...anyPort, IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'true' });
    const { environment: _a, ...local } = localFunctionDefinition;
    const { environment: _b, ...deployed } = functionDefinition;
    expect(local).toEqual(deployed);
  });

  it('forms a valid system on its own', () => {
    expect(defineSystem([functionDefinition]).accessPoints).toEqual([accessPoint]);
  });
});
