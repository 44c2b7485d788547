import { defineFunction, defineSystem } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import { apiRoutes, declaredRouteFor, invokeResourcePath } from '../../src/route-authorization.js';
import { fixtureSystem } from '../fixtures/system.js';

const { routes } = fixtureSystem();

describe('apiRoutes', () => {
  it('adds the DELETE of each ANY route, with deleteAuthorization, and leaves every other route open', () => {
    expect(apiRoutes(routes, { deleteAuthorization: 'AWS_IAM', routeAuthorization: {} })).toEqual([
      { routeKey: 'ANY /message-wall', functionName: 'message-wall', authorization: { type: 'NONE' } },
      { routeKey: 'ANY /message-wall/{wall}', functionName: 'message-wall', authorization: { type: 'NONE' } },
      { routeKey: 'GET /ml-inference', functionName: 'ml-inference', authorization: { type: 'NONE' } },
      { routeKey: 'POST /ml-inference', functionName: 'ml-inference', authorization: { type: 'NONE' } },
      { routeKey: 'DELETE /message-wall', functionName: 'message-wall', authorization: { type: 'AWS_IAM' } },
      { routeKey: 'DELETE /message-wall/{wall}', functionName: 'message-wall', authorization: { type: 'AWS_IAM' } },
    ]);
  });

  it('lets routeAuthorization override per key, and adds a method of an ANY route it names', () => {
    const result = apiRoutes(routes, {
      deleteAuthorization: 'AWS_IAM',
      routeAuthorization: {
        'DELETE /message-wall': { type: 'NONE' },
        'PUT /message-wall/{wall}': { type: 'AWS_IAM' },
        'GET /nowhere': { type: 'AWS_IAM' },
      },
    });
    const byKey = Object.fromEntries(result.map((route) => [route.routeKey, route.authorization.type]));
    expect(byKey).toMatchObject({
      'DELETE /message-wall': 'NONE',
      'DELETE /message-wall/{wall}': 'AWS_IAM',
      'PUT /message-wall/{wall}': 'AWS_IAM',
    });
    expect(byKey).not.toHaveProperty('GET /nowhere');
  });

  it('gives a declared DELETE route deleteAuthorization, and adds none where it is declared', () => {
    const system = defineSystem([
      defineFunction({
        name: 'files',
        entry: new URL('file:///nowhere/files.js'),
        routes: ['DELETE /files/{name}', 'ANY /files/{name}', 'GET /files'],
      }),
    ]);
    expect(
      apiRoutes(system.routes, { deleteAuthorization: 'AWS_IAM', routeAuthorization: {} }).map((route) => [
        route.routeKey,
        route.authorization.type,
      ]),
    ).toEqual([
      ['DELETE /files/{name}', 'AWS_IAM'],
      ['ANY /files/{name}', 'NONE'],
      ['GET /files', 'NONE'],
    ]);
  });
});

describe('declaredRouteFor', () => {
  it('finds a declared key, or the ANY route a method belongs to, and nothing else', () => {
    expect(declaredRouteFor('GET /ml-inference', routes)?.functionName).toBe('ml-inference');
    expect(declaredRouteFor('PATCH /message-wall/{wall}', routes)?.routeKey).toBe('ANY /message-wall/{wall}');
    expect(declaredRouteFor('DELETE /ml-inference', routes)).toBeUndefined();
    expect(declaredRouteFor('FETCH /message-wall', routes)).toBeUndefined();
  });
});

describe('invokeResourcePath', () => {
  it.each([
    ['DELETE /message-wall', 'DELETE/message-wall'],
    ['DELETE /message-wall/{wall}', 'DELETE/message-wall/*'],
    ['ANY /files/{proxy+}', '*/files/*'],
    ['$default', '*'],
  ])('%s → %s', (routeKey, path) => {
    expect(invokeResourcePath(routeKey)).toBe(path);
  });
});
