import { readFileSync } from 'node:fs';

/** A payload 2.0 event as the fixtures hold it, mutable for the test that owns the copy. */
export interface TestEvent {
  version: string;
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded: boolean;
  requestContext: {
    requestId: string;
    http: { method: string; path: string; [key: string]: unknown };
    [key: string]: unknown;
  };
}

export type EventCase =
  'get' | 'post' | 'post-base64' | 'delete' | 'put' | 'get-wall' | 'post-wall' | 'delete-wall' | 'get-tail' | 'get-wall-traversal';

const parsed = new Map<EventCase, TestEvent>();

/** A fresh copy of `tests/events/<name>.json`: mutate it freely. */
export function loadEvent(name: EventCase): TestEvent {
  let event = parsed.get(name);
  if (event === undefined) {
    event = JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8')) as TestEvent;
    parsed.set(name, event);
  }
  return structuredClone(event);
}

export interface RequestSpec {
  /** @default 'GET' */
  readonly method?: string;
  /** A (decoded) wall id, as API Gateway puts it in pathParameters; null or absent: the top-level wall. */
  readonly wall?: string | null;
  readonly body?: string;
  /** Send `body` (or these bytes) base64-encoded, as API Gateway does for non-text content types. */
  readonly base64?: boolean | Uint8Array;
  /** `?tail=…`, as API Gateway puts it in queryStringParameters. */
  readonly tail?: string;
  readonly requestId?: string;
}

/** An event built from the fixtures: `get.json` for the top-level wall, `get-wall.json` for a per-user one. */
export function eventFor(spec: RequestSpec = {}): TestEvent {
  const method = spec.method ?? 'GET';
  const perUser = spec.wall !== undefined && spec.wall !== null;
  const event = loadEvent(perUser ? 'get-wall' : 'get');
  if (perUser) {
    const wall = spec.wall as string;
    event.pathParameters = { wall };
    event.rawPath = `/message-wall/${encodeURIComponent(wall)}`;
    event.requestContext.http.path = event.rawPath;
  }
  event.requestContext.http.method = method;
  if (spec.requestId !== undefined) event.requestContext.requestId = spec.requestId;
  if (spec.tail !== undefined) {
    event.queryStringParameters = { tail: spec.tail };
    event.rawQueryString = `tail=${encodeURIComponent(spec.tail)}`;
  }
  if (spec.base64 instanceof Uint8Array) {
    event.body = Buffer.from(spec.base64).toString('base64');
    event.isBase64Encoded = true;
    event.headers['content-type'] = 'application/octet-stream';
  } else if (spec.body !== undefined) {
    event.body = spec.base64 === true ? Buffer.from(spec.body, 'utf8').toString('base64') : spec.body;
    event.isBase64Encoded = spec.base64 === true;
    event.headers['content-type'] = spec.base64 === true ? 'application/x-www-form-urlencoded' : 'text/plain';
  }
  return event;
}
