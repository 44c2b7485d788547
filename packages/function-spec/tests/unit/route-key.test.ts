import { describe, expect, it } from 'vitest';

import { InvalidSpecError, parseRouteKey, type ParsedRouteKey } from '../../src/index.js';

describe('parseRouteKey', () => {
  it.each<[string, ParsedRouteKey]>([
    [
      'GET /message-wall',
      {
        kind: 'route',
        key: 'GET /message-wall',
        method: 'GET',
        path: '/message-wall',
        segments: [{ kind: 'literal', value: 'message-wall' }],
        params: [],
      },
    ],
    [
      'ANY /message-wall/{wall}',
      {
        kind: 'route',
        key: 'ANY /message-wall/{wall}',
        method: 'ANY',
        path: '/message-wall/{wall}',
        segments: [
          { kind: 'literal', value: 'message-wall' },
          { kind: 'param', name: 'wall' },
        ],
        params: ['wall'],
      },
    ],
    [
      'GET /files/{proxy+}',
      {
        kind: 'route',
        key: 'GET /files/{proxy+}',
        method: 'GET',
        path: '/files/{proxy+}',
        segments: [
          { kind: 'literal', value: 'files' },
          { kind: 'greedy', name: 'proxy' },
        ],
        params: ['proxy'],
      },
    ],
    [
      'DELETE /walls/{wall}/messages/{id}',
      {
        kind: 'route',
        key: 'DELETE /walls/{wall}/messages/{id}',
        method: 'DELETE',
        path: '/walls/{wall}/messages/{id}',
        segments: [
          { kind: 'literal', value: 'walls' },
          { kind: 'param', name: 'wall' },
          { kind: 'literal', value: 'messages' },
          { kind: 'param', name: 'id' },
        ],
        params: ['wall', 'id'],
      },
    ],
    ['OPTIONS /', { kind: 'route', key: 'OPTIONS /', method: 'OPTIONS', path: '/', segments: [], params: [] }],
    ['$default', { kind: 'default', key: '$default', method: 'ANY', path: null, segments: [], params: [] }],
  ])('parses %s', (key, expected) => {
    expect(parseRouteKey(key)).toEqual(expected);
  });

  it('returns a frozen result', () => {
    const route = parseRouteKey('GET /a/{b}');
    expect(Object.isFrozen(route)).toBe(true);
    expect(Object.isFrozen(route.segments)).toBe(true);
    expect(Object.isFrozen(route.segments[1])).toBe(true);
  });

  it.each([
    ['GET message-wall', 'a route path must start with "/" (example: "GET /message-wall")'],
    ['/message-wall', 'a route key needs a method before the path'],
    ['message-wall', 'a route key is "<METHOD> <path>" or "$default"'],
    ['get /x', 'methods are upper case (example: "GET /x")'],
    ['CONNECT /x', 'the method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY'],
    ['GET  /x', 'the method, one space and a path without spaces'],
    ['GET /x/', 'must not end with "/" (example: "GET /x")'],
    ['GET /a//b', 'must not contain empty segments'],
    ['GET /{proxy+}/more', 'must be the last segment'],
    ['GET /{a}/{a}', 'the path parameter name "a" is used twice'],
    ['GET /{a-b}', 'a path parameter name is a letter or "_"'],
    ['GET /{}', 'a path parameter name is a letter or "_"'],
    ['GET /x{id}', 'takes a whole segment'],
    ['GET /a/./b', 'must not contain "." segments'],
    ['GET /%20', 'may only contain letters, digits'],
    ['$DEFAULT', 'exactly as "$default"'],
  ])('refuses %s', (key, rule) => {
    let caught: unknown;
    try {
      parseRouteKey(key);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidSpecError);
    const error = caught as InvalidSpecError;
    expect(error.message.startsWith(`Route key: ${JSON.stringify(key)} is invalid: `)).toBe(true);
    expect(error.message).toContain(rule);
    expect(error.issues).toHaveLength(1);
  });
});
