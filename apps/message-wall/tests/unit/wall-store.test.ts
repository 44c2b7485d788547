import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CONFIG_DEFAULTS } from '../../src/config.js';
import { WallStore, parseTail, type WallStoreOptions } from '../../src/core/wall-store.js';
import { InvalidWallIdError, MessageWallError } from '../../src/errors.js';
import { removeMount, tempMount } from '../helpers/walls.js';

// The core on its own: no events, no Lambda types, a temporary directory as the mount.
let dir: string;
let store: WallStore;

function storeOn(mount: string, options: Partial<WallStoreOptions> = {}): WallStore {
  return new WallStore({ dir: mount, ...CONFIG_DEFAULTS, ...options });
}

beforeEach(() => {
  dir = tempMount();
  store = storeOn(dir);
});

afterEach(() => removeMount(dir));

describe('wall paths', () => {
  it('keeps the top-level wall at <mount>/content, the post’s file', () => {
    expect(store.wallPath(null)).toBe(join(dir, 'content'));
  });

  it('keeps a per-user wall at <mount>/walls/<id>/content', () => {
    expect(store.wallPath('alice')).toBe(join(dir, 'walls', 'alice', 'content'));
    expect(store.wallPath('A-b_9')).toBe(join(dir, 'walls', 'A-b_9', 'content'));
  });

  it('uses the configured file name', () => {
    expect(storeOn(dir, { fileName: 'messages.txt' }).wallPath('bob')).toBe(join(dir, 'walls', 'bob', 'messages.txt'));
  });

  it.each(['..', '../x', 'a/b', '', 'a'.repeat(65), 'x\u0000', '.hidden', 'walls/..'])('refuses the wall id %j', (id) => {
    expect(() => store.wallPath(id)).toThrow(InvalidWallIdError);
  });
});

describe('posting, reading, deleting', () => {
  it('answers a post with the wall after it, read under the same lock', async () => {
    expect((await store.post(null, 'one')).text).toBe('one\n');
    expect((await store.post(null, 'two')).text).toBe('one\ntwo\n');
    expect((await store.read(null)).text).toBe('one\ntwo\n');
  });

  it('reports sizes and the lock wait', async () => {
    const result = await store.post('w', 'héllo');
    expect(result).toMatchObject({ messageBytes: 6, wallBytes: 7, repairedBytes: 0 });
    expect(result.lockWaitMs).toBeGreaterThanOrEqual(0);
  });

  it('stores the text as given: no trimming, tabs and Unicode kept', async () => {
    await store.post(null, '  \tspaced  ');
    await store.post(null, 'emoji 🎉 and 中文');
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('  \tspaced  \nemoji 🎉 and 中文\n');
  });

  it('reads an empty wall as no text', async () => {
    expect((await store.read(null)).text).toBe('');
    expect((await store.read('nobody', { tail: 3 })).text).toBe('');
  });

  it('deletes by removing the file, and reports whether there was one', async () => {
    await store.post(null, 'x');
    expect((await store.clear(null)).existed).toBe(true);
    expect(existsSync(join(dir, 'content'))).toBe(false);
    expect((await store.clear(null)).existed).toBe(false);
  });

  it('leaves no lock directory behind', async () => {
    await store.post('w', 'x');
    await store.clear('w');
    expect(readdirSync(join(dir, 'walls', 'w')).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });
});

describe('the read buffer shared by every read of the process', () => {
  it('answers each wall with its own bytes, a large wall before a small one included', async () => {
    // 200 KiB of multi-byte text: the buffer grows past it; the small wall after must not show its rest.
    const large = Array.from({ length: 2000 }, (_, i) => `message ${i} é中🎉 ${'x'.repeat(80)}`);
    writeFileSync(join(dir, 'content'), `${large.join('\n')}\n`);
    const largeReply = await store.post(null, 'last ü');
    expect(largeReply.text).toBe(`${large.join('\n')}\nlast ü\n`);
    expect((await store.read(null)).text).toBe(largeReply.text);

    expect((await store.post('small', 'ß')).text).toBe('ß\n');
    expect((await store.post('small', 'two')).text).toBe('ß\ntwo\n');
    expect((await store.read('small')).text).toBe('ß\ntwo\n');
    expect((await store.read(null)).text).toBe(largeReply.text);
  });

  it('answers a large wall read again with its current bytes, even when they changed but not their length', async () => {
    const wall = (letter: string): string => `${`${letter.repeat(99)}\n`.repeat(1000)}`;
    writeFileSync(join(dir, 'content'), wall('a'));
    expect((await store.read(null)).text).toBe(wall('a'));
    expect((await store.read(null)).text).toBe(wall('a'));
    // Same size, other bytes (a repair or a DELETE and new posts could do it): not the remembered text.
    writeFileSync(join(dir, 'content'), wall('b'));
    expect((await store.read(null)).text).toBe(wall('b'));
    const reply = await store.post(null, 'c');
    expect(reply.text).toBe(`${wall('b')}c\n`);
    expect((await store.read(null)).text).toBe(reply.text);
    writeFileSync(join(dir, 'content'), `${wall('b').slice(0, -2)}x\nc\n`);
    expect((await store.read(null)).text).toBe(`${wall('b').slice(0, -2)}x\nc\n`);
  });

  it('leaves out an unterminated tail when reading into it', async () => {
    writeFileSync(join(dir, 'content'), 'one\ntwo\nhalf-writ');
    expect((await store.read(null)).text).toBe('one\ntwo\n');
    writeFileSync(join(dir, 'content'), 'no newline at all');
    expect((await store.read(null)).text).toBe('');
  });
});

describe('tail', () => {
  it('reads the last messages backwards in doubling chunks', async () => {
    const small = storeOn(dir, { readChunkBytes: 3 });
    const messages = Array.from({ length: 30 }, (_, i) => `message ${i} ${'·'.repeat(i % 7)}`);
    for (const message of messages) await small.post(null, message);
    for (const tail of [1, 2, 5, 29, 30, 31, 1000]) {
      expect((await small.read(null, { tail })).text).toBe(
        messages
          .slice(-tail)
          .map((m) => `${m}\n`)
          .join(''),
      );
    }
  });

  it('parses tail query values strictly', () => {
    expect(parseTail('20')).toBe(20);
    for (const bad of ['0', '-1', '1e3', ' 2', '2 ', '0x10', '', '1234567890']) {
      expect(() => parseTail(bad)).toThrow(MessageWallError);
    }
  });
});

describe('a writer that died mid-write', () => {
  it('is invisible to readers: the unterminated tail is left out', async () => {
    await store.post(null, 'whole');
    appendFileSync(join(dir, 'content'), 'half a mess');
    expect((await store.read(null)).text).toBe('whole\n');
    expect((await store.read(null, { tail: 1 })).text).toBe('whole\n');
  });

  it('is cut off before the next append, so it never glues onto a message', async () => {
    await store.post(null, 'whole');
    appendFileSync(join(dir, 'content'), 'half a mess');
    const result = await store.post(null, 'next');
    expect(result.text).toBe('whole\nnext\n');
    expect(result.repairedBytes).toBe(11);
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('whole\nnext\n');
  });

  it('is cut off when it is all the file holds', async () => {
    writeFileSync(join(dir, 'content'), 'only a fragment');
    expect((await store.read(null)).text).toBe('');
    expect((await store.post(null, 'first', { tail: 1 })).text).toBe('first\n');
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('first\n');
  });
});

describe('the cap', () => {
  it('counts bytes of the file, newlines included, and refuses what would pass it', async () => {
    const capped = storeOn(dir, { maxWallBytes: 8, maxMessageBytes: 7 });
    await capped.post(null, 'abc'); // 4 bytes
    await capped.post(null, 'def'); // 8 bytes: exactly the cap
    await expect(capped.post(null, 'g')).rejects.toMatchObject({ code: 'EWALLFULL', status: 507 });
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('abc\ndef\n');
  });

  it('does not count an unterminated tail against the cap', async () => {
    const capped = storeOn(dir, { maxWallBytes: 8, maxMessageBytes: 7 });
    writeFileSync(join(dir, 'content'), 'abc\nXXXXXXXXXXXX');
    expect((await capped.post(null, 'def')).text).toBe('abc\ndef\n');
  });
});
