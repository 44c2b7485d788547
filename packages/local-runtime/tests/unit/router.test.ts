import { defineFunction, defineSystem, type RouteKey } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import { Router } from '../../src/http/router.js';

function routerFor(routes: Record<string, RouteKey[]>): Router {
  const functions = Object.entries(routes).map(([name, keys]) => defineFunction({ name, entry: `/app/${name}.js`, routes: keys }));
  return new Router(defineSystem(functions).routes);
}

describe('Router', () => {
  const router = routerFor({
    exact: ['GET /pets/dog/1'],
    param: ['GET /pets/dog/{id}'],
    greedy: ['GET /pets/{proxy+}'],
    any: ['ANY /{proxy+}'],
    wall: ['ANY /message-wall', 'ANY /message-wall/{wall}'],
    post: ['POST /message-wall'],
    root: ['GET /'],
  });

  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', undefined],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/pets/dog/1', 'ANY /{proxy+}', { proxy: 'pets/dog/1' }],
    ['GET', '/message-wall', 'ANY /message-wall', undefined],
    ['POST', '/message-wall', 'POST /message-wall', undefined],
    ['DELETE', '/message-wall/w1', 'ANY /message-wall/{wall}', { wall: 'w1' }],
    ['GET', '/', 'GET /', undefined],
  ])('routes %s %s to %s (API Gateway’s priorities)', (method, path, routeKey, pathParameters) => {
    const match = router.match(method, path);
    expect(match?.routeKey).toBe(routeKey);
    expect(match?.pathParameters).toEqual(pathParameters);
  });

  it('decodes path parameters, as API Gateway decodes request parameters', () => {
    expect(router.match('GET', '/message-wall/a%20b')?.pathParameters).toEqual({ wall: 'a b' });
    expect(router.match('GET', '/pets/x%2Fy/z')?.pathParameters).toEqual({ proxy: 'x/y/z' });
  });

  it('keeps a malformed escape as sent', () => {
    expect(router.match('GET', '/message-wall/%E0%A4%A')?.pathParameters).toEqual({ wall: '%E0%A4%A' });
  });

  it('matches nothing when neither a route nor $default fits (a 404)', () => {
    const small = routerFor({ wall: ['GET /message-wall', 'GET /message-wall/{wall}'] });
    expect(small.match('POST', '/message-wall')).toBeUndefined();
    expect(small.match('GET', '/message-wall/a/b')).toBeUndefined();
    expect(small.match('GET', '/message-wall/')).toBeUndefined();
    expect(small.match('GET', '/other')).toBeUndefined();
    expect(small.match('HEAD', '/message-wall')).toBeUndefined();
  });

  it('sends what no route matches to $default, without path parameters', () => {
    const withDefault = routerFor({ wall: ['GET /message-wall'], fallback: ['$default'] });
    expect(withDefault.match('POST', '/anything/else')).toEqual({
      routeKey: '$default',
      functionName: 'fallback',
      pathParameters: undefined,
    });
    expect(withDefault.match('GET', '/message-wall')?.functionName).toBe('wall');
  });

  it('does not let a greedy parameter match nothing', () => {
    const greedyOnly = routerFor({ files: ['GET /files/{path+}'] });
    expect(greedyOnly.match('GET', '/files')).toBeUndefined();
    expect(greedyOnly.match('GET', '/files/a')?.pathParameters).toEqual({ path: 'a' });
  });
});
