import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { lock } from '@lambda-efs/efs-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CONFIG_DEFAULTS } from '../../src/config.js';
import { functionDefinition } from '../../src/function.js';
import { DEADLINE_MARGIN_MS, handler as exportedHandler } from '../../src/handler.js';
import { eventFor, loadEvent } from '../helpers/events.js';
import { lambdaContext, removeMount, tempMount, testHandler, type TestHandler } from '../helpers/walls.js';

let dir: string;
let wall: TestHandler;

beforeEach(() => {
  dir = tempMount();
  wall = testHandler(dir);
});

afterEach(() => removeMount(dir));

async function call(spec: Parameters<typeof eventFor>[0], context = lambdaContext()) {
  return wall.handler(eventFor(spec), context);
}

describe('per-user walls', () => {
  it('keeps each wall in walls/<id>/content, apart from the shared wall', async () => {
    expect((await wall.handler(loadEvent('post-wall'), lambdaContext())).body).toBe('Hi Alice\n');
    await call({ method: 'POST', wall: 'bob', body: 'Hi Bob' });
    await call({ method: 'POST', body: 'shared' });
    expect(readFileSync(join(dir, 'walls', 'alice', 'content'), 'utf8')).toBe('Hi Alice\n');
    expect(readFileSync(join(dir, 'walls', 'bob', 'content'), 'utf8')).toBe('Hi Bob\n');
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('shared\n');
    expect((await wall.handler(loadEvent('get-wall'), lambdaContext())).body).toBe('Hi Alice\n');
  });

  it('deletes one wall and leaves the others', async () => {
    await call({ method: 'POST', wall: 'alice', body: 'a' });
    await call({ method: 'POST', wall: 'bob', body: 'b' });
    expect((await wall.handler(loadEvent('delete-wall'), lambdaContext())).body).toBe('Messages deleted.');
    expect((await call({ wall: 'alice' })).body).toBe('No message yet.');
    expect((await call({ wall: 'bob' })).body).toBe('b\n');
  });

  it('creates nothing for a GET or DELETE of a wall never posted to', async () => {
    expect((await call({ wall: 'nobody' })).body).toBe('No message yet.');
    expect((await call({ method: 'DELETE', wall: 'nobody' })).body).toBe('Messages deleted.');
    expect(existsSync(join(dir, 'walls'))).toBe(false);
  });
});

describe('tail', () => {
  beforeEach(async () => {
    for (const message of ['one', 'two', 'three']) await call({ method: 'POST', body: message });
  });

  it('returns the last N messages on GET', async () => {
    expect((await wall.handler(loadEvent('get-tail'), lambdaContext())).body).toBe('two\nthree\n');
    expect((await call({ tail: '1' })).body).toBe('three\n');
    expect((await call({ tail: '50' })).body).toBe('one\ntwo\nthree\n');
  });

  it('returns the last N messages after the new one on POST', async () => {
    expect((await call({ method: 'POST', body: 'four', tail: '2' })).body).toBe('three\nfour\n');
    expect((await call({ method: 'POST', body: 'five', tail: '1' })).body).toBe('five\n');
  });

  it('keeps the post’s answer on an empty wall', async () => {
    await call({ method: 'DELETE' });
    expect((await call({ tail: '3' })).body).toBe('No message yet.');
  });
});

describe('limits', () => {
  it('stores a message of exactly the size limit', async () => {
    const message = 'x'.repeat(65_536);
    const response = await call({ method: 'POST', body: message, tail: '1' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(`${message}\n`);
  });

  it('refuses the post that would pass the wall cap with 507, saying how to clear the wall', async () => {
    const small = testHandler(dir, { MESSAGE_WALL_MAX_WALL_BYTES: '10', MESSAGE_WALL_MAX_MESSAGE_BYTES: '5' });
    expect((await small.handler(eventFor({ method: 'POST', wall: 'w', body: 'abcd' }), lambdaContext())).statusCode).toBe(200);
    expect((await small.handler(eventFor({ method: 'POST', wall: 'w', body: 'abcd' }), lambdaContext())).statusCode).toBe(200);
    const full = await small.handler(eventFor({ method: 'POST', wall: 'w', body: 'a' }), lambdaContext());
    expect(full.statusCode).toBe(507);
    expect(full.body).toContain('DELETE /message-wall/w');
    expect(full.body).toContain('10 of 10 bytes');
    expect(readFileSync(join(dir, 'walls', 'w', 'content'), 'utf8')).toBe('abcd\nabcd\n');
    await small.handler(eventFor({ method: 'DELETE', wall: 'w' }), lambdaContext());
    expect((await small.handler(eventFor({ method: 'POST', wall: 'w', body: 'a' }), lambdaContext())).statusCode).toBe(200);
  });

  it('fills a wall up to exactly its cap', async () => {
    const small = testHandler(dir, { MESSAGE_WALL_MAX_WALL_BYTES: '6', MESSAGE_WALL_MAX_MESSAGE_BYTES: '5' });
    expect((await small.handler(eventFor({ method: 'POST', body: 'ab' }), lambdaContext())).statusCode).toBe(200);
    expect((await small.handler(eventFor({ method: 'POST', body: 'cd' }), lambdaContext())).statusCode).toBe(200);
    expect((await small.handler(eventFor({ method: 'POST', body: 'e' }), lambdaContext())).statusCode).toBe(507);
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('ab\ncd\n');
  });
});

describe('locking', () => {
  it('answers 503 with Retry-After, before the deadline, while another environment holds the lock', async () => {
    const held = await lock(join(dir, 'content'), { staleMs: 60_000 });
    try {
      const startedAt = Date.now();
      const response = await call({ method: 'POST', body: 'blocked' }, lambdaContext('req-busy', DEADLINE_MARGIN_MS + 300));
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatch(/busy.*Nothing was changed; retry/);
    } finally {
      await held.release();
    }
    expect(existsSync(join(dir, 'content'))).toBe(false);
    expect((await call({ method: 'POST', body: 'free' })).statusCode).toBe(200);
  });

  it('waits for a lock held briefly and reports the wait in its log', async () => {
    const held = await lock(join(dir, 'content'));
    setTimeout(() => void held.release(), 200);
    const response = await call({ method: 'POST', body: 'after the wait' }, lambdaContext('req-wait'));
    expect(response.statusCode).toBe(200);
    const entry = wall.logs.find((log) => log.requestId === 'req-wait');
    expect(entry?.['lockWaitMs']).toBeGreaterThanOrEqual(150);
  });
});

describe('the declaration and the defaults', () => {
  it('leave a waiter time to take over the lock of an environment killed holding it, and still answer', () => {
    const budget = functionDefinition.timeoutSeconds * 1000 - DEADLINE_MARGIN_MS;
    expect(CONFIG_DEFAULTS.lockTimeoutMs).toBeGreaterThan(CONFIG_DEFAULTS.lockStaleMs);
    expect(budget).toBeGreaterThanOrEqual(CONFIG_DEFAULTS.lockTimeoutMs);
  });
});

describe('logs', () => {
  it('logs one structured entry per request with the request ids, status and lock wait', async () => {
    await wall.handler(loadEvent('post'), lambdaContext('aws-req-7'));
    await wall.handler(loadEvent('put'), lambdaContext('aws-req-8'));
    expect(wall.logs).toHaveLength(2);
    expect(wall.logs[0]).toMatchObject({
      level: 'INFO',
      requestId: 'aws-req-7',
      apiRequestId: 'LV7fzho-PHcEJPw=',
      method: 'POST',
      wall: null,
      status: 200,
      messageBytes: 15,
      wallBytes: 16,
    });
    expect(typeof wall.logs[0]?.['lockWaitMs']).toBe('number');
    expect(typeof wall.logs[0]?.['durationMs']).toBe('number');
    expect(wall.logs[1]).toMatchObject({ level: 'WARN', requestId: 'aws-req-8', status: 405, code: 'EMETHOD' });
  });

  it('hides internal errors from the client but logs them with their cause and the request id', async () => {
    const broken = testHandler(dir);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'walls'), 'a file where the walls directory should be');
    const response = await broken.handler(eventFor({ method: 'POST', wall: 'alice', body: 'x' }), lambdaContext('req-broken'));
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe(
      'Internal error: the request failed and nothing was changed. Retry with backoff; if it keeps failing, report request id req-broken.',
    );
    expect(broken.logs[0]).toMatchObject({ level: 'ERROR', requestId: 'req-broken', code: 'EINTERNAL' });
    expect(JSON.stringify(broken.logs[0]?.['error'])).toMatch(/EEXIST|ENOTDIR/);
  });
});

describe('the handler export', () => {
  it('is configured from MESSAGE_WALL_DIR at import', async () => {
    // vitest.config.ts sets MESSAGE_WALL_DIR to the system temp directory; read a wall id nobody uses.
    const id = `export-check-${process.pid}`;
    const response = await exportedHandler(eventFor({ wall: id }), lambdaContext());
    expect(response).toMatchObject({ statusCode: 200, body: 'No message yet.' });
    expect(existsSync(join(tmpdir(), 'walls', id))).toBe(false);
  });
});
