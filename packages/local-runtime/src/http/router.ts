import type { ParsedRoute, SystemRoute } from '@lambda-efs/function-spec';

/** The route a request matched, with its function and decoded path parameters. */
export interface RouteMatch {
  /** @example 'ANY /message-wall/{wall}' */
  readonly routeKey: string;
  readonly functionName: string;
  /** Absent when the route has no parameters (payload 2.0 omits empty fields). */
  readonly pathParameters: Readonly<Record<string, string>> | undefined;
}

interface CompiledRoute {
  readonly routeKey: string;
  readonly functionName: string;
  readonly method: string;
  readonly route: ParsedRoute;
  /** Literal 0, parameter 1, greedy 2, per segment: lower is more specific. */
  readonly rank: readonly number[];
}

/**
 * API Gateway HTTP API route selection: the most specific route wins — literal segments over
 * `{param}` over `{proxy+}`, compared from the left, and a route naming the method over `ANY` —
 * then `$default`; no match at all is a 404. Matching is on decoded segments, as API Gateway
 * decodes request parameters before passing them on.
 */
export class Router {
  readonly #routes: readonly CompiledRoute[];
  readonly #fallback: { routeKey: string; functionName: string } | undefined;

  constructor(routes: readonly SystemRoute[]) {
    const compiled: CompiledRoute[] = [];
    let fallback: { routeKey: string; functionName: string } | undefined;
    for (const { routeKey, route, functionName } of routes) {
      if (route.kind === 'default') {
        fallback = { routeKey, functionName };
        continue;
      }
      const rank = route.segments.map((segment) => (segment.kind === 'literal' ? 0 : segment.kind === 'param' ? 1 : 2));
      compiled.push({ routeKey, functionName, method: route.method, route, rank });
    }
    this.#routes = compiled.sort(bySpecificity);
    this.#fallback = fallback;
  }

  /**
   * @param rawPath the path as the client sent it, without the query string.
   * @returns the route, or `undefined` when neither a route nor `$default` matches (a 404).
   */
  match(method: string, rawPath: string): RouteMatch | undefined {
    const segments = splitPath(rawPath);
    for (const candidate of this.#routes) {
      if (candidate.method !== 'ANY' && candidate.method !== method) continue;
      const parameters = matchSegments(candidate.route, segments);
      if (parameters === null) continue;
      return { routeKey: candidate.routeKey, functionName: candidate.functionName, pathParameters: parameters };
    }
    if (this.#fallback === undefined) return undefined;
    return { ...this.#fallback, pathParameters: undefined };
  }
}

function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.min(a.rank.length, b.rank.length);
  for (let index = 0; index < length; index++) {
    const difference = (a.rank[index] ?? 0) - (b.rank[index] ?? 0);
    if (difference !== 0) return difference;
  }
  // Same shape so far: the longer route is more specific (`/a/b/{proxy+}` before `/a/{proxy+}`).
  if (a.rank.length !== b.rank.length) return b.rank.length - a.rank.length;
  return (a.method === 'ANY' ? 1 : 0) - (b.method === 'ANY' ? 1 : 0);
}

function splitPath(rawPath: string): string[] {
  if (rawPath === '/' || rawPath === '') return [];
  return rawPath.slice(1).split('/').map(decodeSegment);
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is kept as sent, as API Gateway passes it through.
    return segment;
  }
}

/** The path parameters when `route` matches, `undefined` when it matches without any, `null` when not. */
function matchSegments(route: ParsedRoute, segments: readonly string[]): Record<string, string> | undefined | null {
  const routeSegments = route.segments;
  const last = routeSegments[routeSegments.length - 1];
  const greedy = last?.kind === 'greedy';
  if (greedy ? segments.length < routeSegments.length : segments.length !== routeSegments.length) return null;
  let parameters: Record<string, string> | undefined;
  for (const [index, segment] of routeSegments.entries()) {
    const value = segments[index] ?? '';
    if (segment.kind === 'literal') {
      if (segment.value !== value) return null;
      continue;
    }
    if (segment.kind === 'param') {
      // A parameter is one non-empty segment (`/walls//x` does not match `/walls/{id}/x`).
      if (value === '') return null;
      parameters ??= {};
      parameters[segment.name] = value;
      continue;
    }
    const rest = segments.slice(index).join('/');
    if (rest === '') return null;
    parameters ??= {};
    parameters[segment.name] = rest;
  }
  return parameters;
}
