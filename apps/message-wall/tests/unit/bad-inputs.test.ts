import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventFor, loadEvent, type RequestSpec } from '../helpers/events.js';
import { lambdaContext, removeMount, tempMount, testHandler, type TestHandler } from '../helpers/walls.js';

// Every bad input gets its status and a message that says what to do, and changes nothing.

interface Row {
  readonly name: string;
  readonly event: () => unknown;
  readonly status: number;
  readonly body: string | RegExp;
}

const request = (spec: RequestSpec) => () => eventFor(spec);
const post = (body: string, extra: RequestSpec = {}) => request({ method: 'POST', body, ...extra });
const postBytes = (bytes: number[] | Uint8Array) => request({ method: 'POST', base64: Uint8Array.from(bytes) });
const onWall = (wall: string, method = 'GET') => request({ method, wall, ...(method === 'POST' ? { body: 'x' } : {}) });

const METHOD = 'Method unsupported.';
const EMPTY = /^Message is empty\. Send the message text as the request body/;
const LINE_BREAK = /^Message contains a line break.*Remove the line breaks/;
const control = (hex: string) => new RegExp(`^Message contains the control character U\\+${hex}\\. Remove it`);
const NOT_UTF8 =
  /^The body is not valid UTF-8 text \(the first invalid byte is at offset \d+\)\. Nothing was stored\. Convert the text to UTF-8/;
const tooLarge = (bytes: number) => new RegExp(`^Message is too large: ${bytes} bytes, the limit is 65536 bytes.*Shorten it or split it`);
const wallId = (shown: string) => new RegExp(`^Wall id ${escape(shown)} is invalid: use 1 to 64 letters, digits, "-" or "_"`);
const TAIL = /^tail is .*: use a whole number of messages from 1 to 999999999, for example \?tail=20/;
const NOT_HTTP = /^This function answers API Gateway HTTP API requests \(payload format 2\.0\): call it through its HTTP endpoint/;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ROWS: Row[] = [
  // methods
  { name: 'PUT', event: request({ method: 'PUT' }), status: 405, body: METHOD },
  { name: 'PATCH', event: request({ method: 'PATCH' }), status: 405, body: METHOD },
  { name: 'HEAD', event: request({ method: 'HEAD' }), status: 405, body: METHOD },
  { name: 'OPTIONS', event: request({ method: 'OPTIONS' }), status: 405, body: METHOD },
  { name: 'a lower-case method (methods are case-sensitive)', event: request({ method: 'get' }), status: 405, body: METHOD },
  { name: 'PUT on an invalid wall (the wall is checked first)', event: onWall('../x', 'PUT'), status: 400, body: wallId('"../x"') },
  // bodies
  { name: 'POST without a body', event: request({ method: 'POST' }), status: 400, body: EMPTY },
  { name: 'an empty body', event: post(''), status: 400, body: EMPTY },
  { name: 'a whitespace-only body', event: post(' \t  '), status: 400, body: EMPTY },
  { name: 'a body of Unicode spaces', event: post('\u3000\u00a0\u2003'), status: 400, body: EMPTY },
  { name: 'a body of two lines', event: post('two\nlines'), status: 400, body: LINE_BREAK },
  { name: 'a body with a trailing newline', event: post('trailing newline\n'), status: 400, body: LINE_BREAK },
  { name: 'a body with a carriage return', event: post('carriage\rreturn'), status: 400, body: LINE_BREAK },
  { name: 'a base64 body of two lines', event: post('one\ntwo', { base64: true }), status: 400, body: LINE_BREAK },
  { name: 'a NUL byte', event: post('nul\u0000byte'), status: 400, body: control('0000') },
  { name: 'a terminal escape sequence', event: post('\u001b[31mred'), status: 400, body: control('001B') },
  { name: 'a C1 control character', event: post('c1 \u009b control'), status: 400, body: control('009B') },
  // encodings
  { name: 'bytes that are not UTF-8', event: postBytes([0xff, 0xfe, 0xfd]), status: 400, body: NOT_UTF8 },
  { name: 'an overlong UTF-8 encoding of "/"', event: postBytes([0x61, 0xc0, 0xaf]), status: 400, body: NOT_UTF8 },
  { name: 'a UTF-8-encoded surrogate', event: postBytes([0xed, 0xa0, 0x80]), status: 400, body: NOT_UTF8 },
  { name: 'truncated UTF-8', event: postBytes([0x68, 0x69, 0xe2, 0x82]), status: 400, body: NOT_UTF8 },
  {
    name: 'a body marked base64 that is not',
    event: () => ({ ...eventFor({ method: 'POST', body: '@@ not base64 @@' }), isBase64Encoded: true }),
    status: 400,
    body: /^The body is marked as base64 \(isBase64Encoded\) but is not valid base64\. Send the body as is: API Gateway encodes it\./,
  },
  // A text body arrives decoded: invalid bytes would have become U+FFFD, so it is refused, not stored altered.
  {
    name: 'a text body with U+FFFD, what invalid UTF-8 becomes in a text body',
    event: post('caf\ufffd au lait'),
    status: 400,
    body: /^The body contains U\+FFFD \(the replacement character\).*Nothing was stored\. Send the text encoded as UTF-8/,
  },
  {
    name: 'a text body with a lone surrogate',
    event: post('broken \ud800 pair'),
    status: 400,
    body: /^Message is not valid Unicode.*Send the message as UTF-8 text/,
  },
  // sizes
  { name: 'one byte over the limit', event: post('x'.repeat(65_537)), status: 413, body: tooLarge(65_537) },
  { name: 'multi-byte characters over the limit', event: post('€'.repeat(21_846)), status: 413, body: tooLarge(65_538) },
  { name: 'a base64 body over the limit', event: postBytes(new Uint8Array(70_000).fill(0x61)), status: 413, body: tooLarge(70_000) },
  { name: 'a 10 MB base64 body', event: postBytes(new Uint8Array(10_000_000).fill(0x61)), status: 413, body: tooLarge(10_000_000) },
  // wall ids (as API Gateway passes them: percent-decoded)
  { name: '..%2Fcontent', event: () => loadEvent('get-wall-traversal'), status: 400, body: wallId('"../content"') },
  { name: '..%2F..%2Fetc%2Fpasswd', event: onWall('../../etc/passwd'), status: 400, body: wallId('"../../etc/passwd"') },
  { name: '..', event: onWall('..'), status: 400, body: wallId('".."') },
  { name: '.', event: onWall('.'), status: 400, body: wallId('"."') },
  { name: 'a slash', event: onWall('a/b', 'POST'), status: 400, body: wallId('"a/b"') },
  { name: 'a backslash', event: onWall('..\\..', 'POST'), status: 400, body: wallId('"..\\\\.."') },
  { name: '%00', event: onWall('\u0000'), status: 400, body: wallId('"\\u0000"') },
  { name: 'a NUL inside an id', event: onWall('alice\u0000.txt', 'POST'), status: 400, body: wallId('"alice\\u0000.txt"') },
  { name: 'a double-encoded slash (..%252F)', event: onWall('..%2F'), status: 400, body: wallId('"..%2F"') },
  { name: 'an encoded dot pair (%252e%252e)', event: onWall('%2e%2e'), status: 400, body: wallId('"%2e%2e"') },
  { name: 'an id of 65 characters', event: onWall('a'.repeat(65), 'POST'), status: 400, body: wallId(`"${'a'.repeat(40)}…"`) },
  { name: 'an id of 10,000 characters', event: onWall('b'.repeat(10_000)), status: 400, body: wallId(`"${'b'.repeat(40)}…"`) },
  { name: 'an empty id', event: onWall('', 'POST'), status: 400, body: wallId('"" (empty)') },
  { name: 'an id with a space', event: onWall('alice bob'), status: 400, body: wallId('"alice bob"') },
  { name: 'a non-ASCII id', event: onWall('élise'), status: 400, body: wallId('"élise"') },
  {
    name: 'the wall route without its parameter',
    event: () => {
      const event = loadEvent('get-wall');
      delete event.pathParameters;
      return event;
    },
    status: 400,
    body: /^Wall id is missing: use \/message-wall\/<id>/,
  },
  // query
  { name: 'tail=0', event: request({ tail: '0' }), status: 400, body: TAIL },
  { name: 'tail=-1', event: request({ tail: '-1' }), status: 400, body: TAIL },
  { name: 'tail=abc', event: request({ tail: 'abc' }), status: 400, body: TAIL },
  { name: 'tail=2.5', event: request({ tail: '2.5' }), status: 400, body: TAIL },
  { name: 'a repeated tail (API Gateway joins them: 1,2)', event: request({ tail: '1,2' }), status: 400, body: TAIL },
  { name: 'a tail of ten digits', event: request({ tail: '9999999999' }), status: 400, body: TAIL },
  { name: 'a tail on POST', event: post('kept out', { tail: 'x' }), status: 400, body: TAIL },
  {
    name: 'DELETE with a tail',
    event: request({ method: 'DELETE', tail: '5' }),
    status: 400,
    body: /^tail applies to GET and POST only.*Send it without \?tail/,
  },
  // events that are not HTTP API requests
  { name: 'an empty object', event: () => ({}), status: 400, body: NOT_HTTP },
  { name: 'null', event: () => null, status: 400, body: NOT_HTTP },
  { name: 'a string', event: () => 'GET /message-wall', status: 400, body: NOT_HTTP },
  {
    name: 'an event without requestContext.http',
    event: () => ({ ...eventFor(), requestContext: { requestId: 'x' } }),
    status: 400,
    body: NOT_HTTP,
  },
];

let dir: string;
let wall: TestHandler;
const BEFORE = 'already here\n';

beforeAll(async () => {
  dir = tempMount();
  wall = testHandler(dir);
  await wall.handler(eventFor({ method: 'POST', body: 'already here' }), lambdaContext());
});

afterAll(() => removeMount(dir));

describe('bad inputs', () => {
  it('has at least 20 cases', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(20);
  });

  it.each(ROWS)('refuses $name with $status', async (row) => {
    const response = await wall.handler(row.event(), lambdaContext(`bad-${row.name}`));
    expect(response.statusCode).toBe(row.status);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    if (typeof row.body === 'string') expect(response.body).toBe(row.body);
    else expect(response.body).toMatch(row.body);
    // Short enough to read, whatever was sent.
    expect(response.body.length).toBeLessThan(400);
    if (row.status === 405) expect(response.headers['allow']).toBe('GET, POST, DELETE');
    // Nothing changed: the shared wall is as it was and no per-user wall appeared.
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe(BEFORE);
    expect(existsSync(join(dir, 'walls'))).toBe(false);
    expect(readdirSync(dir).filter((name) => !name.startsWith('.content.lock.'))).toEqual(['content']);
    // And it is logged as a warning with the reason.
    expect(wall.logs.at(-1)).toMatchObject({ level: 'WARN', status: row.status, requestId: `bad-${row.name}` });
  });
});
