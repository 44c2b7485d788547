import { defineFunction, RESERVED_ENVIRONMENT_KEYS } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import { environmentSpec, heapLimitMb, lambdaVariables, SANDBOX_HOME } from '../../src/environments/lambda-environment.js';
import { requestHeaderBytes } from '../../src/http/server.js';
import { dataAccessPoint } from '../helpers/runtime.js';

const definition = defineFunction({
  name: 'message-wall',
  entry: '/repo/apps/message-wall/dist/handler.js',
  runtime: 'nodejs22.x',
  memoryMb: 256,
  fileSystem: { accessPoint: dataAccessPoint, mountPath: '/mnt/msg' },
  environment: { MESSAGE_WALL_DIR: '/mnt/msg', WALLS: '/mnt/msg/walls', MODE: 'x' },
});
const settings = {
  region: 'eu-west-1',
  accountId: '123456789012',
  logFormat: 'text' as const,
  mountDir: '/repo/.efs/message',
  user: undefined,
};

describe('lambdaVariables', () => {
  it('defines Lambda’s variables and the function’s own, rebased onto the local access point', () => {
    const variables = lambdaVariables(definition, settings);
    expect(variables).toMatchObject({
      _HANDLER: 'handler.handler',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: 'message-wall',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/message-wall',
      LAMBDA_TASK_ROOT: '/repo/apps/message-wall/dist',
      TZ: ':UTC',
      MESSAGE_WALL_DIR: '/repo/.efs/message',
      WALLS: '/repo/.efs/message/walls',
      MODE: 'x',
    });
    expect(variables['AWS_LAMBDA_LOG_STREAM_NAME']).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(variables['AWS_LAMBDA_LOG_FORMAT']).toBeUndefined();
    expect(lambdaVariables(definition, { ...settings, logFormat: 'json' })['AWS_LAMBDA_LOG_FORMAT']).toBe('JSON');
  });

  it('passes nothing else of the runtime’s environment but PATH', () => {
    const keys = Object.keys(lambdaVariables(definition, settings));
    const expected = new Set([
      ...RESERVED_ENVIRONMENT_KEYS,
      'PATH',
      'LANG',
      'NODE_PATH',
      'MESSAGE_WALL_DIR',
      'WALLS',
      'MODE',
      'AWS_LAMBDA_LOG_FORMAT',
      'HOME',
    ]);
    expect(keys.filter((key) => !expected.has(key))).toEqual([]);
  });

  it("gives an access point's user the sandbox user's HOME (it has no passwd entry), and the runtime's own user none", () => {
    expect(lambdaVariables(definition, { ...settings, user: { uid: 1001, gid: 1001 } })['HOME']).toBe(SANDBOX_HOME);
    expect(lambdaVariables(definition, settings)['HOME']).toBeUndefined();
  });

  it("sets the credentials given, as Lambda sets its execution role's", () => {
    const variables = lambdaVariables(definition, {
      ...settings,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' },
    });
    expect(variables).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
    expect(lambdaVariables(definition, settings)['AWS_ACCESS_KEY_ID']).toBeUndefined();
  });

  it('runs a deployment package from its task directory, with source maps', () => {
    const task = { dir: '/tmp/tasks/message-wall/abc', entry: '/tmp/tasks/message-wall/abc/handler.mjs' };
    const spec = environmentSpec(definition, { ...settings, task });
    expect(spec).toMatchObject({ cwd: task.dir, bootstrap: { entry: task.entry, handlerExport: 'handler' } });
    expect(spec.env).toMatchObject({ LAMBDA_TASK_ROOT: task.dir, NODE_PATH: task.dir, _HANDLER: 'handler.handler' });
    expect(spec.execArgv).toEqual(['--max-old-space-size=230', '--enable-source-maps']);
  });

  it('caps the heap from the declared memory', () => {
    expect(heapLimitMb(128)).toBe(115);
    expect(environmentSpec(definition, settings).execArgv).toEqual(['--max-old-space-size=230']);
  });
});

describe('requestHeaderBytes', () => {
  it('counts the request line and every header line with their CRLFs', () => {
    const bytes = requestHeaderBytes({ method: 'GET', url: '/a', httpVersion: '1.1', rawHeaders: ['Host', 'x', 'A', 'bc'] });
    expect(bytes).toBe('GET /a HTTP/1.1\r\n'.length + 'Host: x\r\n'.length + 'A: bc\r\n'.length);
  });
});
