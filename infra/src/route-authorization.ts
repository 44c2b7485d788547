// Which routes the HTTP API has, which need authorization, and what an IAM policy must name to let
// a principal call them. The functions declare `ANY /message-wall`; DELETE (and any method the
// configuration names) gets a route of its own next to it, and API Gateway sends that method
// there ("ANY matches all methods that you haven't defined"), so only the DELETE needs SigV4.
import type { SystemRoute } from '@lambda-efs/function-spec';

import type { ApiConfig, RouteAuthorization } from './config.js';

/** The authorization types a route key can be given through `LAMBDA_EFS_ROUTE_AUTHORIZATION`. */
export const ROUTE_AUTHORIZATION_TYPES = ['NONE', 'AWS_IAM'] as const;
export type SimpleRouteAuthorization = (typeof ROUTE_AUTHORIZATION_TYPES)[number];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/**
 * The declared route a configured route key names: the route with that key, or, for
 * `METHOD /path`, the declared `ANY /path` that method is carved out of. `undefined`: neither.
 */
export function declaredRouteFor(routeKey: string, routes: readonly SystemRoute[]): SystemRoute | undefined {
  const exact = routes.find((route) => route.routeKey === routeKey);
  if (exact !== undefined) return exact;
  const [method = '', path = ''] = routeKey.split(' ');
  if (!METHODS.includes(method) || path === '') return undefined;
  return routes.find((route) => route.routeKey === `ANY ${path}`);
}

/**
 * The part of an `execute-api:Invoke` resource ARN after the API id and stage for a route key:
 * `'DELETE /message-wall/{wall}'` → `'DELETE/message-wall/*'` (a path parameter matches any
 * segment; `ANY` any method). The full ARN is `arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/<this>`.
 */
export function invokeResourcePath(routeKey: string): string {
  // The catch-all route serves any method on any path.
  if (routeKey === '$default') return '*';
  const [method = '', path = ''] = routeKey.split(' ');
  const resource = path.replace(/\{[^}]+\}/g, '*');
  return `${method === 'ANY' ? '*' : method}${resource}`;
}

/** One route the HTTP API gets. */
export interface ApiRoute {
  readonly routeKey: string;
  /** The declared function that serves it. */
  readonly functionName: string;
  readonly authorization: RouteAuthorization;
}

/**
 * Every route of the HTTP API, in order: the declared routes, then the DELETE of each declared
 * `ANY /path` (unless `DELETE /path` is declared), then each method of an ANY route that
 * `api.routeAuthorization` names. A DELETE gets `api.deleteAuthorization`, any other route `NONE`,
 * and `api.routeAuthorization` overrides both per key. Keys that name no route are left out
 * (`validateConfig` reports them).
 */
export function apiRoutes(routes: readonly SystemRoute[], api: Pick<ApiConfig, 'deleteAuthorization' | 'routeAuthorization'>): ApiRoute[] {
  const served = new Map<string, string>(routes.map((route) => [route.routeKey, route.functionName]));
  for (const route of routes) {
    if (route.route.kind !== 'route' || route.route.method !== 'ANY') continue;
    const deleteKey = `DELETE ${route.route.path}`;
    if (!served.has(deleteKey)) served.set(deleteKey, route.functionName);
  }
  for (const routeKey of Object.keys(api.routeAuthorization)) {
    const declared = declaredRouteFor(routeKey, routes);
    if (declared !== undefined && !served.has(routeKey)) served.set(routeKey, declared.functionName);
  }
  return [...served].map(([routeKey, functionName]) => ({
    routeKey,
    functionName,
    authorization: api.routeAuthorization[routeKey] ?? { type: routeKey.startsWith('DELETE ') ? api.deleteAuthorization : 'NONE' },
  }));
}
