import { describe, expect, it } from 'vitest';

import { defineAccessPoint, defineFunction, defineSystem, validateSystem, type FunctionSpec } from '../../src/index.js';
import { messageAccessPointSpec, messageWallSpec } from './fixtures.js';

const mlAccessPoint = defineAccessPoint({
  name: 'ml',
  rootPath: '/ml',
  owner: { uid: 1001, gid: 1001 },
  permissions: '750',
});
const messageWall = defineFunction(messageWallSpec);
const mlInference = defineFunction({
  name: 'ml-inference',
  entry: '/srv/apps/ml-inference/dist/handler.js',
  routes: ['GET /ml-inference', 'POST /ml-inference'],
  fileSystem: { accessPoint: mlAccessPoint, mountPath: '/mnt/inference', readOnly: true },
});
const reader = defineFunction({
  name: 'message-reader',
  entry: '/srv/apps/reader/dist/handler.js',
  routes: ['GET /message-wall'],
  fileSystem: { accessPoint: defineAccessPoint(messageAccessPointSpec), mountPath: '/mnt/msg', readOnly: true },
});

function messagesOf(functions: readonly FunctionSpec[]): string[] {
  const result = validateSystem(functions);
  if (result.ok) throw new Error('expected the system to be refused');
  return result.issues.map((issue) => issue.message);
}

describe('defineSystem', () => {
  it('lists each access point once and every route with its function', () => {
    const system = defineSystem([messageWall, mlInference, reader]);
    expect(system.functions.map((fn) => fn.name)).toEqual(['message-wall', 'ml-inference', 'message-reader']);
    expect(system.accessPoints.map((ap) => ap.name)).toEqual(['message', 'ml']);
    expect(system.routes.map((route) => [route.routeKey, route.functionName])).toEqual([
      ['ANY /message-wall', 'message-wall'],
      ['ANY /message-wall/{wall}', 'message-wall'],
      ['GET /ml-inference', 'ml-inference'],
      ['POST /ml-inference', 'ml-inference'],
      ['GET /message-wall', 'message-reader'],
    ]);
    expect(system.routes[1]?.route.params).toEqual(['wall']);
    expect(Object.isFrozen(system)).toBe(true);
    expect(Object.isFrozen(system.routes)).toBe(true);
  });

  it('accepts ANY and GET on the same path in different functions, as API Gateway does', () => {
    expect(validateSystem([messageWall, reader]).ok).toBe(true);
  });

  it('validates plain declarations too', () => {
    expect(defineSystem([messageWallSpec]).functions[0]).toEqual(messageWall);
  });
});

describe('validateSystem refuses', () => {
  it('two functions with the same name', () => {
    const twin = defineFunction({ name: 'message-wall', entry: '/srv/x/handler.js' });
    expect(messagesOf([messageWall, twin])).toEqual([
      'functions[1].name "message-wall" is invalid: functions[0] already has this name; function names must be unique, rename one.',
    ]);
  });

  it('two functions claiming the same route, even with other parameter names', () => {
    const other = defineFunction({ name: 'other', entry: '/srv/x/handler.js', routes: ['ANY /message-wall/{id}'] });
    const [message] = messagesOf([messageWall, other]);
    expect(message).toContain('functions[1].routes[0] "ANY /message-wall/{id}" is invalid');
    expect(message).toContain('functions[0].routes[1] "ANY /message-wall/{wall}" is the same route');
  });

  it('two $default routes', () => {
    const a = defineFunction({ name: 'a', entry: '/srv/a/handler.js', routes: ['$default'] });
    const b = defineFunction({ name: 'b', entry: '/srv/b/handler.js', routes: ['$default'] });
    expect(messagesOf([a, b])[0]).toContain('functions[1].routes[0] "$default" is invalid');
  });

  it('access points with the same name and different settings', () => {
    const changed = defineFunction({
      name: 'other',
      entry: '/srv/x/handler.js',
      fileSystem: {
        accessPoint: { ...messageAccessPointSpec, permissions: '770' },
        mountPath: '/mnt/msg',
      },
    });
    const [message] = messagesOf([messageWall, changed]);
    expect(message).toContain('functions[1].fileSystem.accessPoint "message" is invalid');
    expect(message).toContain('different settings (/message owner 1001:1001 user 1001:1001 mode 750 vs');
    expect(message).toContain('declare it once with defineAccessPoint');
  });

  it('two access points with the same root path', () => {
    const alias = defineFunction({
      name: 'other',
      entry: '/srv/x/handler.js',
      fileSystem: { accessPoint: { ...messageAccessPointSpec, name: 'message2' }, mountPath: '/mnt/msg' },
    });
    expect(messagesOf([messageWall, alias])[0]).toContain(
      'functions[1].fileSystem.accessPoint.rootPath "/message" is invalid: access point "message" of functions[0] has the same root path',
    );
  });

  it('invalid functions, with paths prefixed by their index, and reports all problems', () => {
    const broken = { ...messageWallSpec, name: 'broken', memoryMb: 1 } as FunctionSpec;
    const duplicate = defineFunction({ name: 'message-wall', entry: '/srv/x/handler.js' });
    const result = validateSystem([messageWall, broken, duplicate]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.path)).toEqual(['functions[1].memoryMb', 'functions[2].name']);
    expect(result.error.message).toMatch(/^System of 3 function\(s\) has 2 problems:/);
  });

  it('something that is not an array', () => {
    expect(messagesOf({} as unknown as FunctionSpec[])[0]).toContain('a system is an array of function declarations');
  });

  it('with a thrown error from defineSystem', () => {
    expect(() => defineSystem([messageWall, messageWall])).toThrow(/functions\[1\]\.name "message-wall" is invalid/);
  });
});
