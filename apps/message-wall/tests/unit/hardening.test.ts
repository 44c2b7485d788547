import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { eventFor } from '../helpers/events.js';
import { lambdaContext, removeMount, tempMount, testHandler } from '../helpers/walls.js';

let dir: string;

beforeEach(() => {
  dir = tempMount();
});

afterEach(() => removeMount(dir));

const postTo = (wall: string, body = 'hello') => eventFor({ method: 'POST', wall, body });

describe('invalid UTF-8', () => {
  it('stores U+FFFD sent as binary, where the bytes are the client’s own', async () => {
    const wall = testHandler(dir);
    const response = await wall.handler(eventFor({ method: 'POST', base64: Buffer.from('caf\ufffd', 'utf8') }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('caf\ufffd\n');
  });

  it('says where the first invalid byte is and never advises a text Content-Type (which would replace the bytes)', async () => {
    const wall = testHandler(dir);
    const response = await wall.handler(eventFor({ method: 'POST', base64: Uint8Array.from([0x68, 0x69, 0xff, 0x21]) }), lambdaContext());
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/first invalid byte is at offset 2\b/);
    expect(response.body).not.toMatch(/text\/plain/);
    expect(existsSync(join(dir, 'content'))).toBe(false);
  });
});

describe('the cap on per-user walls (MESSAGE_WALL_MAX_WALLS)', () => {
  it('answers 507 for one wall too many, creates nothing for it, and logs a warning', async () => {
    const wall = testHandler(dir, { MESSAGE_WALL_MAX_WALLS: '2' });
    expect((await wall.handler(postTo('alice'), lambdaContext())).statusCode).toBe(200);
    expect((await wall.handler(postTo('bob'), lambdaContext())).statusCode).toBe(200);
    const refused = await wall.handler(postTo('carol'), lambdaContext('req-carol'));
    expect(refused.statusCode).toBe(507);
    expect(refused.body).toMatch(
      /^The wall "carol" does not exist and cannot be created: the limit of 2 per-user walls is reached\. Nothing was stored\./,
    );
    expect(readdirSync(join(dir, 'walls')).sort()).toEqual(['alice', 'bob']);
    expect(wall.logs.at(-1)).toMatchObject({ level: 'WARN', requestId: 'req-carol', status: 507, code: 'EWALLLIMIT' });
    // Existing walls and the shared wall still take posts.
    expect((await wall.handler(postTo('alice', 'again'), lambdaContext())).statusCode).toBe(200);
    expect((await wall.handler(eventFor({ method: 'POST', body: 'shared' }), lambdaContext())).statusCode).toBe(200);
  });

  it('never passes the cap when many new walls are created at once', async () => {
    const wall = testHandler(dir, { MESSAGE_WALL_MAX_WALLS: '5' });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => wall.handler(postTo(`w${i}`), lambdaContext(`c${i}`))));
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 507)).toHaveLength(15);
    expect(readdirSync(join(dir, 'walls'))).toHaveLength(5);
  });

  it('allows no per-user wall at 0', async () => {
    const wall = testHandler(dir, { MESSAGE_WALL_MAX_WALLS: '0' });
    expect((await wall.handler(postTo('alice'), lambdaContext())).statusCode).toBe(507);
  });
});

describe('log levels', () => {
  it('logs a full wall (507, the client’s condition) as a warning, not an error', async () => {
    const wall = testHandler(dir, { MESSAGE_WALL_MAX_WALL_BYTES: '10', MESSAGE_WALL_MAX_MESSAGE_BYTES: '9' });
    expect((await wall.handler(eventFor({ method: 'POST', body: '12345' }), lambdaContext())).statusCode).toBe(200);
    const full = await wall.handler(eventFor({ method: 'POST', body: '12345' }), lambdaContext('req-full'));
    expect(full.statusCode).toBe(507);
    expect(wall.logs.at(-1)).toMatchObject({ level: 'WARN', requestId: 'req-full', status: 507, code: 'EWALLFULL' });
  });
});
