import type * as NodeFs from 'node:fs';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { eventFor } from '../helpers/events.js';
import { lambdaContext, removeMount, tempMount, testHandler, type TestHandler } from '../helpers/walls.js';

// Fault injection into the synchronous fs calls appendLine makes (open, write, close), in the
// spirit of write-file-atomic's tests: a message is either stored and answered 200, or not
// stored (no reader ever sees any of it) and answered with an error.

type FsModule = typeof NodeFs;
type Fault = ((real: FsModule, ...args: unknown[]) => unknown) | undefined;
const faults: { openSync: Fault; writeSync: Fault; closeSync: Fault } = { openSync: undefined, writeSync: undefined, closeSync: undefined };

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<FsModule>();
  const wrap =
    (name: keyof typeof faults) =>
    (...args: unknown[]) => {
      const fault = faults[name];
      return fault === undefined ? (real[name] as (...a: unknown[]) => unknown)(...args) : fault(real, ...args);
    };
  const mocked = { ...real, openSync: wrap('openSync'), writeSync: wrap('writeSync'), closeSync: wrap('closeSync') };
  return { ...mocked, default: mocked };
});

function fsError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected failure`), { code });
}

let dir: string;
let wall: TestHandler;

beforeEach(async () => {
  dir = tempMount();
  wall = testHandler(dir);
  await wall.handler(eventFor({ method: 'POST', body: 'before' }), lambdaContext());
});

afterEach(() => {
  faults.openSync = faults.writeSync = faults.closeSync = undefined;
  removeMount(dir);
});

const post = (body: string) => wall.handler(eventFor({ method: 'POST', body }), lambdaContext('req-fault'));
const get = () => wall.handler(eventFor(), lambdaContext());

describe('faults while appending', () => {
  it('answers 200 when close reports an error after the line landed (NFS reports write errors at close)', async () => {
    faults.closeSync = (real, fd) => {
      real.closeSync(fd as number);
      throw fsError('EIO');
    };
    const response = await post('landed');
    faults.closeSync = undefined;
    expect(response).toMatchObject({ statusCode: 200, body: 'before\nlanded\n' });
    expect((await get()).body).toBe('before\nlanded\n');
  });

  it('answers 500 and shows nothing of a message whose write stopped halfway', async () => {
    faults.writeSync = (real, fd, buffer, offset, length) => {
      real.writeSync(fd as number, buffer as Buffer, offset as number, Math.floor((length as number) / 2));
      throw fsError('EIO');
    };
    const response = await post('torn in two');
    faults.writeSync = undefined;
    expect(response.statusCode).toBe(500);
    expect(response.body).toMatch(/nothing was changed\. Retry/);
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('before\ntorn i');
    expect((await get()).body).toBe('before\n');
    // The next append cuts the fragment off first.
    expect((await post('after')).body).toBe('before\nafter\n');
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('before\nafter\n');
    expect(wall.logs.at(-1)).toMatchObject({ status: 200, repairedBytes: 6 });
  });

  it.each(['ENOSPC', 'EDQUOT', 'EIO'])('answers 500 and stores nothing when write fails with %s', async (code) => {
    faults.writeSync = () => {
      throw fsError(code);
    };
    const response = await post('not stored');
    faults.writeSync = undefined;
    expect(response.statusCode).toBe(500);
    expect(readFileSync(join(dir, 'content'), 'utf8')).toBe('before\n');
    expect(JSON.stringify(wall.logs.at(-1)?.['error'])).toContain(code);
  });

  it('answers 500 and stores nothing when the wall file cannot be opened for writing', async () => {
    // Any open of the wall file but for reading ('r'), whatever flags efs-utils spells it with.
    faults.openSync = (real, path, flags, ...rest) => {
      if (path === join(dir, 'content') && flags !== 'r') throw fsError('EACCES');
      return (real.openSync as (...a: unknown[]) => unknown)(path, flags, ...rest);
    };
    const response = await post('not stored');
    faults.openSync = undefined;
    expect(response.statusCode).toBe(500);
    expect(statSync(join(dir, 'content')).size).toBe(7);
  });
});

// The environment starves past its lease right after its write, and another takes the lock over
// (the lease entry is reaped): efs-utils cannot confirm the lease, so the outcome is 'unknown'.
// The POST looks at the file instead of guessing.
describe('a lease lost right after the write', () => {
  function loseLeaseAfterWrite(landed: boolean): void {
    faults.writeSync = (real, fd, buffer, offset, length) => {
      // A write that did not land: one a taker-over's fence sent into the replaced file.
      const written = landed ? real.writeSync(fd as number, buffer as Buffer, offset as number, length as number) : (length as number);
      const lockDir = join(dir, 'content.lock');
      for (const entry of real.readdirSync(lockDir)) if (entry.startsWith('x.')) real.rmSync(join(lockDir, entry));
      const now = performance.now();
      const wallNow = Date.now();
      vi.spyOn(performance, 'now').mockImplementation(() => now + 60_000);
      vi.spyOn(Date, 'now').mockImplementation(() => wallNow + 60_000);
      return written;
    };
  }
  afterEach(() => vi.restoreAllMocks());

  it('answers 200 when the line is in place: the message is stored', async () => {
    loseLeaseAfterWrite(true);
    const response = await post('landed before the takeover');
    faults.writeSync = undefined;
    vi.restoreAllMocks();
    expect(response).toMatchObject({ statusCode: 200, body: 'before\nlanded before the takeover\n' });
    expect((await get()).body).toBe('before\nlanded before the takeover\n');
  });

  it('answers 503 and says to retry when the line is not there: nothing was stored', async () => {
    loseLeaseAfterWrite(false);
    const response = await post('lost with the fenced file');
    faults.writeSync = undefined;
    vi.restoreAllMocks();
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatch(/lock was lost .* the change was not made\. Nothing was changed; retry/);
    expect((await get()).body).toBe('before\n');
  });
});
