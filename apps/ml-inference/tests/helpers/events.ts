import { readFileSync } from 'node:fs';

/** A payload 2.0 event as the fixtures hold it, mutable for the test that owns the copy. */
export interface TestEvent {
  version: string;
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded: boolean;
  requestContext: {
    requestId: string;
    http: { method: string; path: string; [key: string]: unknown };
    [key: string]: unknown;
  };
}

const parsed = new Map<string, TestEvent>();

/** A fresh copy of `tests/events/<name>.json`: mutate it freely. */
export function loadEvent(name: 'get' | 'post'): TestEvent {
  let event = parsed.get(name);
  if (event === undefined) {
    event = JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8')) as TestEvent;
    parsed.set(name, event);
  }
  return structuredClone(event);
}

/** GET /ml-inference?url=…[&top=…], as API Gateway delivers it. */
export function getEvent(url: string | undefined, extra: Record<string, string> = {}): TestEvent {
  const event = loadEvent('get');
  const query: Record<string, string> = { ...(url === undefined ? {} : { url }), ...extra };
  if (Object.keys(query).length === 0) delete event.queryStringParameters;
  else event.queryStringParameters = query;
  event.rawQueryString = new URLSearchParams(query).toString();
  return event;
}

/** POST /ml-inference with `bytes` as the body, base64-encoded as API Gateway does for image/*. */
export function postEvent(
  bytes: Uint8Array | undefined,
  options: { contentType?: string; query?: Record<string, string>; text?: string } = {},
): TestEvent {
  const event = loadEvent('post');
  event.headers['content-type'] = options.contentType ?? 'image/jpeg';
  if (options.text !== undefined) {
    event.body = options.text;
    event.isBase64Encoded = false;
  } else if (bytes === undefined) {
    delete event.body;
  } else {
    event.body = Buffer.from(bytes).toString('base64');
  }
  event.headers['content-length'] = String(bytes?.length ?? options.text?.length ?? 0);
  if (options.query !== undefined) {
    event.queryStringParameters = options.query;
    event.rawQueryString = new URLSearchParams(options.query).toString();
  }
  return event;
}

/** The parsed JSON body of a handler answer. */
export function bodyOf(result: { body: string }): Record<string, unknown> {
  return JSON.parse(result.body) as Record<string, unknown>;
}

/** The `{ error: { code, message } }` of an error answer. */
export function errorOf(result: { body: string }): { code: string; message: string } {
  const body = bodyOf(result) as { error?: { code: string; message: string } };
  if (body.error === undefined) throw new Error(`not an error answer: ${result.body}`);
  return body.error;
}
