import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadEvent } from '../helpers/events.js';
import { lambdaContext, removeMount, tempMount, testHandler, type TestHandler } from '../helpers/walls.js';

// The curl session of the AWS post, request by request, through the handler on real files.
let dir: string;
let wall: TestHandler;

beforeEach(() => {
  dir = tempMount();
  wall = testHandler(dir);
});

afterEach(() => removeMount(dir));

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

describe('the post’s curl session', () => {
  it('answers every request of the session byte for byte', async () => {
    const { handler } = wall;
    const again = loadEvent('post');
    again.body = 'Hello again :)';
    const steps = [
      { event: loadEvent('get'), body: 'No message yet.' },
      { event: loadEvent('post'), body: 'Hello from EFS!\n' },
      { event: again, body: 'Hello from EFS!\nHello again :)\n' },
      { event: loadEvent('get'), body: 'Hello from EFS!\nHello again :)\n' },
      { event: loadEvent('delete'), body: 'Messages deleted.' },
      { event: loadEvent('get'), body: 'No message yet.' },
    ];
    for (const [index, step] of steps.entries()) {
      const response = await handler(step.event, lambdaContext(`session-${index}`));
      expect({ index, status: response.statusCode, body: response.body }).toEqual({ index, status: 200, body: step.body });
      expect(response.headers).toMatchObject(TEXT);
    }
  });

  it('keeps the wall in <mount>/content, one message per line, as the post’s code wrote it', async () => {
    await wall.handler(loadEvent('post'), lambdaContext());
    await wall.handler(loadEvent('post-base64'), lambdaContext());
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('Hello from EFS!\nHello again :)\n');
  });

  it('reads a wall the post’s code wrote', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'content'), 'written by python\nand again\n');
    const response = await wall.handler(loadEvent('get'), lambdaContext());
    expect(response.body).toBe('written by python\nand again\n');
  });

  it('decodes the base64 body curl -d sends without a content type', async () => {
    const response = await wall.handler(loadEvent('post-base64'), lambdaContext());
    expect(response).toMatchObject({ statusCode: 200, body: 'Hello again :)\n' });
  });

  it('removes the wall file on DELETE, as the post’s code did', async () => {
    await wall.handler(loadEvent('post'), lambdaContext());
    await wall.handler(loadEvent('delete'), lambdaContext());
    expect(() => readFileSync(join(dir, 'content'))).toThrow(/ENOENT/);
  });

  it('answers DELETE on an empty wall like the post', async () => {
    const response = await wall.handler(loadEvent('delete'), lambdaContext());
    expect(response).toMatchObject({ statusCode: 200, body: 'Messages deleted.' });
  });

  it('answers other methods with the post’s text, status 405 and an Allow header', async () => {
    const response = await wall.handler(loadEvent('put'), lambdaContext());
    expect(response).toEqual({
      statusCode: 405,
      headers: { ...TEXT, 'cache-control': 'no-store', allow: 'GET, POST, DELETE' },
      body: 'Method unsupported.',
      isBase64Encoded: false,
    });
  });
});
