import { ROUTE_METHODS, type RouteKey, type RouteMethod } from './constants.js';
import { InvalidSpecError } from './errors.js';
import { IssueList, deepFreeze } from './internal/checks.js';
import type { ParsedRouteKey, RouteSegment } from './types.js';

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 3986 unreserved characters: safe in any router, any URL and any file name.
const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;

const DEFAULT_ROUTE: ParsedRouteKey = deepFreeze({
  kind: 'default',
  key: '$default',
  method: 'ANY',
  path: null,
  segments: [],
  params: [],
});

/**
 * Parses a route key into method, path, segments and parameter names, as the local runtime's
 * router needs them. Matching and priority are left to the router.
 * @throws {InvalidSpecError} when `key` breaks a route key rule (the message says which).
 * @example
 * parseRouteKey('ANY /message-wall/{wall}');
 * // { kind: 'route', key: 'ANY /message-wall/{wall}', method: 'ANY', path: '/message-wall/{wall}',
 * //   segments: [{ kind: 'literal', value: 'message-wall' }, { kind: 'param', name: 'wall' }], params: ['wall'] }
 * @example
 * parseRouteKey('$default'); // { kind: 'default', key: '$default', method: 'ANY', path: null, segments: [], params: [] }
 */
export function parseRouteKey(key: string): ParsedRouteKey {
  const result = checkRouteKey(key);
  if (typeof result === 'string') {
    const issues = new IssueList();
    issues.invalid('', key, result);
    throw new InvalidSpecError('Route key', issues.items);
  }
  return result;
}

/**
 * The conflict identity of a route: two routes with the same method and the same path shape
 * (parameter names ignored) cannot both exist in one HTTP API.
 */
export function routeIdentity(route: ParsedRouteKey): string {
  if (route.kind === 'default') return '$default';
  const shape = route.segments.map((segment) => (segment.kind === 'literal' ? segment.value : segment.kind === 'param' ? '{}' : '{+}'));
  return `${route.method} /${shape.join('/')}`;
}

/** The parsed key, or the rule it breaks (without the value: the caller adds path and value). */
export function checkRouteKey(key: unknown): ParsedRouteKey | string {
  if (typeof key !== 'string') {
    return 'a route key must be a string like "GET /message-wall" or "$default"';
  }
  if (key === '$default') return DEFAULT_ROUTE;
  if (key.toLowerCase() === '$default') return 'write the catch-all route key exactly as "$default"';

  const space = key.indexOf(' ');
  if (space === -1) {
    return key.startsWith('/')
      ? `a route key needs a method before the path (example: "GET ${key}")`
      : 'a route key is "<METHOD> <path>" or "$default" (example: "GET /message-wall")';
  }
  const methodText = key.slice(0, space);
  const path = key.slice(space + 1);

  const method = ROUTE_METHODS.find((candidate) => candidate === methodText);
  if (method === undefined) {
    const upper = methodText.toUpperCase();
    if (ROUTE_METHODS.some((candidate) => candidate === upper)) {
      return `methods are upper case (example: "${upper} ${path}")`;
    }
    return `the method must be one of ${ROUTE_METHODS.join(', ')}`;
  }
  if (/\s/.test(path)) {
    return `a route key is the method, one space and a path without spaces (example: "${method} /message-wall")`;
  }
  if (!path.startsWith('/')) {
    return `a route path must start with "/" (example: "${method} /${path}")`;
  }
  if (/[?#]/.test(path)) {
    return 'a route path must not contain a query string or fragment ("?" or "#"): routes match the path only';
  }
  if (path === '/') return freezeRoute(key, method, path, []);
  if (path.endsWith('/')) {
    return `a route path must not end with "/" (example: "${method} ${path.replace(/\/+$/, '') || '/'}")`;
  }

  const texts = path.slice(1).split('/');
  const segments: RouteSegment[] = [];
  const seen = new Set<string>();
  for (const [index, text] of texts.entries()) {
    if (text === '') return 'a route path must not contain empty segments ("//")';
    if (text.includes('{') || text.includes('}')) {
      const match = /^\{([^{}]*?)(\+?)\}$/.exec(text);
      if (match === null) {
        return `"${text}": a path parameter takes a whole segment, written {name} or {name+} (example: "/message-wall/{wall}")`;
      }
      const name = match[1] ?? '';
      const greedy = match[2] === '+';
      if (!PARAM_NAME.test(name)) {
        return `"${text}": a path parameter name is a letter or "_", then letters, digits or "_" (example: "{wall}")`;
      }
      if (seen.has(name)) return `"${text}": the path parameter name "${name}" is used twice; give each one its own name`;
      seen.add(name);
      if (greedy && index !== texts.length - 1) {
        return `"${text}": a greedy path parameter {name+} must be the last segment (example: "GET /files/{proxy+}")`;
      }
      segments.push(greedy ? { kind: 'greedy', name } : { kind: 'param', name });
      continue;
    }
    if (text === '.' || text === '..') return `a route path must not contain "${text}" segments`;
    if (!LITERAL_SEGMENT.test(text)) {
      return `"${text}": a path segment may only contain letters, digits, "-", "_", "." and "~"`;
    }
    segments.push({ kind: 'literal', value: text });
  }
  return freezeRoute(key, method, path, segments);
}

function freezeRoute(key: string, method: RouteMethod, path: string, segments: RouteSegment[]): ParsedRouteKey {
  const params = segments.flatMap((segment) => (segment.kind === 'literal' ? [] : [segment.name]));
  // The checks above establish the RouteKey shape.
  return deepFreeze({ kind: 'route', key: key as RouteKey, method, path, segments, params });
}
