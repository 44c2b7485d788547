import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atomicWriteFile } from '../../src/atomic-write.js';
import { InvalidArgumentError, LockCompromisedError } from '../../src/errors.js';
import { fsError, fsFaults, fakeLock } from '../helpers/fs-faults.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { wrapFsPromises } = await import('../helpers/fs-faults.js');
  return wrapFsPromises(await importOriginal());
});

let dir: string;
let target: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-atomic-write-'));
  target = join(dir, 'state.json');
});

afterEach(() => {
  fsFaults.reset();
  rmSync(dir, { recursive: true, force: true });
});

const strayFiles = (): string[] => readdirSync(dir).filter((name) => name !== 'state.json');

describe('atomicWriteFile', () => {
  it('creates a new file with the whole content and mode 0o666 narrowed by the umask', async () => {
    await atomicWriteFile(target, 'hello');
    expect(readFileSync(target, 'utf8')).toBe('hello');
    expect(statSync(target).mode & 0o777).toBe(0o666 & ~process.umask());
    expect(strayFiles()).toEqual([]);
  });

  it('replaces an existing file and keeps its mode', async () => {
    writeFileSync(target, 'old');
    chmodSync(target, 0o640);
    await atomicWriteFile(target, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o777).toBe(0o640);
  });

  it('applies an explicit mode exactly, ignoring the umask', async () => {
    writeFileSync(target, 'old');
    await atomicWriteFile(target, 'new', { mode: 0o602 });
    expect(statSync(target).mode & 0o777).toBe(0o602);
  });

  it('writes bytes as given and strings in the requested encoding', async () => {
    await atomicWriteFile(target, new Uint8Array([0, 255, 10]));
    expect([...readFileSync(target)]).toEqual([0, 255, 10]);
    await atomicWriteFile(target, 'aGk=', { encoding: 'base64' });
    expect(readFileSync(target, 'utf8')).toBe('hi');
  });

  it('writes an empty file', async () => {
    writeFileSync(target, 'old');
    await atomicWriteFile(target, '');
    expect(readFileSync(target, 'utf8')).toBe('');
  });

  it('writes 8 MiB fully', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await atomicWriteFile(target, big);
    expect(readFileSync(target).equals(big)).toBe(true);
  });

  it('keeps writing after short writes until every byte is on disk', async () => {
    const data = Buffer.from('x'.repeat(10_000) + 'END');
    fsFaults.intercept((call, real) => {
      if (call.op !== 'handle.write') return real(...call.args);
      const [buffer, offset, length, position] = call.args as [Uint8Array, number, number, number];
      return real(buffer, offset, Math.min(length, 777), position);
    });
    await atomicWriteFile(target, data);
    expect(readFileSync(target).equals(data)).toBe(true);
    expect(fsFaults.calls.filter((c) => c.op === 'handle.write').length).toBe(Math.ceil(data.length / 777));
  });

  it('fsyncs the file before the lock check, and the lock check comes just before the rename', async () => {
    writeFileSync(target, 'old');
    fsFaults.record();
    await atomicWriteFile(target, 'new', { lock: fakeLock(target) });
    const trace = fsFaults.trace.map((label) => label.replace(/\.[0-9a-f]{24}\.tmp$/, '.<token>.tmp'));
    expect(trace).toEqual([
      'stat:state.json',
      'open:.state.json.<token>.tmp',
      'handle.write:.state.json.<token>.tmp',
      'handle.chmod:.state.json.<token>.tmp',
      'handle.sync:.state.json.<token>.tmp',
      'handle.stat:.state.json.<token>.tmp',
      'handle.close:.state.json.<token>.tmp',
      'lock.assertHeld',
      'rename:.state.json.<token>.tmp',
      `open:${dir.split('/').pop()}`,
      `handle.sync:${dir.split('/').pop()}`,
      `handle.close:${dir.split('/').pop()}`,
    ]);
  });

  it('skips both fsyncs with fsync: false', async () => {
    fsFaults.record();
    await atomicWriteFile(target, 'new', { fsync: false });
    expect(fsFaults.calls.map((c) => c.op)).not.toContain('handle.sync');
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  describe('when each fs call fails in turn', () => {
    // Record the calls of a successful run, then fail each of them in a fresh run.
    const recordOps = async (existing: boolean): Promise<string[]> => {
      if (existing) writeFileSync(target, 'old');
      fsFaults.record();
      await atomicWriteFile(target, 'new content');
      const ops = fsFaults.calls.map((c) => `${c.op}:${c.name.startsWith('.state.json.') ? 'tmp' : c.name}`);
      fsFaults.reset();
      rmSync(target, { force: true });
      return ops;
    };

    it('leaves the old content before the rename, the new one after it, never a partial file or a temp file', async () => {
      const ops = await recordOps(true);
      const renameAt = ops.indexOf('rename:tmp');
      expect(renameAt).toBeGreaterThan(0);
      expect(ops.length).toBeGreaterThanOrEqual(10);
      for (const [index, op] of ops.entries()) {
        writeFileSync(target, 'old');
        fsFaults.failNth(index, 'EIO');
        const outcome = await atomicWriteFile(target, 'new content').then(
          () => 'resolved',
          (error: unknown) => error,
        );
        fsFaults.reset();
        expect(outcome, `failure of ${op}`).toMatchObject({ code: 'EIO', injected: true });
        expect(readFileSync(target, 'utf8'), `failure of ${op}`).toBe(index <= renameAt ? 'old' : 'new content');
        expect(strayFiles(), `failure of ${op}`).toEqual([]);
        expect(fsFaults.openHandleCount, `failure of ${op}`).toBe(0);
      }
    });

    it('leaves no file at all when a new file fails before the rename', async () => {
      const ops = await recordOps(false);
      const renameAt = ops.indexOf('rename:tmp');
      for (let index = 0; index <= renameAt; index += 1) {
        rmSync(target, { force: true });
        fsFaults.failNth(index, 'ENOSPC');
        await expect(atomicWriteFile(target, 'new content')).rejects.toMatchObject({ code: 'ENOSPC' });
        fsFaults.reset();
        expect(readdirSync(dir), `failure of call ${ops[index]}`).toEqual([]);
      }
    });
  });

  it('leaves the old content when fsync fails', async () => {
    writeFileSync(target, 'old');
    fsFaults.intercept((call, real) => (call.op === 'handle.sync' ? Promise.reject(fsError('EIO', call)) : real()));
    await expect(atomicWriteFile(target, 'new')).rejects.toMatchObject({ code: 'EIO' });
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(strayFiles()).toEqual([]);
  });

  it('reports the original error when removing the temp file fails too', async () => {
    writeFileSync(target, 'old');
    fsFaults.intercept((call, real) => {
      if (call.op === 'rename') return Promise.reject(fsError('EACCES', call));
      if (call.op === 'unlink') return Promise.reject(fsError('EBUSY', call));
      return real();
    });
    await expect(atomicWriteFile(target, 'new')).rejects.toMatchObject({ code: 'EACCES' });
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('tolerates a directory that cannot be fsynced (EINVAL)', async () => {
    fsFaults.intercept((call, real) =>
      call.op === 'handle.sync' && call.name === dir.split('/').pop() ? Promise.reject(fsError('EINVAL', call)) : real(),
    );
    await atomicWriteFile(target, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(fsFaults.openHandleCount).toBe(0);
  });

  it('resolves when a retried rename reports ENOENT after the first one succeeded', async () => {
    writeFileSync(target, 'old');
    fsFaults.intercept(async (call, real) => {
      if (call.op !== 'rename') return real();
      await real();
      throw fsError('ENOENT', call);
    });
    await atomicWriteFile(target, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(strayFiles()).toEqual([]);
  });

  it('propagates ENOENT from a rename that did not happen', async () => {
    fsFaults.intercept((call, real) => (call.op === 'rename' ? Promise.reject(fsError('ENOENT', call)) : real()));
    await expect(atomicWriteFile(target, 'new')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never commits when the lock was lost: LockCompromisedError, old content, no temp file', async () => {
    writeFileSync(target, 'old');
    const lock = fakeLock(target, async () => {
      throw new LockCompromisedError(target, 'the lease expired');
    });
    await expect(atomicWriteFile(target, 'new', { lock })).rejects.toBeInstanceOf(LockCompromisedError);
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(strayFiles()).toEqual([]);
  });

  it('propagates a missing parent directory as ENOENT and creates nothing', async () => {
    await expect(atomicWriteFile(join(dir, 'missing', 'f'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to replace a directory and leaves no temp file', async () => {
    mkdirSync(target);
    await expect(atomicWriteFile(target, 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(strayFiles()).toEqual([]);
  });

  it('replaces a symlink by a regular file, keeping the mode of the file it pointed to', async () => {
    const real = join(dir, 'real');
    writeFileSync(real, 'old');
    chmodSync(real, 0o600);
    symlinkSync('real', target);
    await atomicWriteFile(target, 'new');
    expect(statSync(target).isFile()).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readFileSync(real, 'utf8')).toBe('old');
  });

  describe('argument checks', () => {
    const call = atomicWriteFile as (...args: unknown[]) => Promise<void>;

    it.each([
      ['an empty path', [''], /path must not be empty/],
      ['a non-string path', [42, 'x'], /path must be a string path, got number 42/],
      ['a path with a NUL byte', ['a\0b', 'x'], /must not contain a NUL byte/],
      ['an object as data', ['f', { a: 1 }], /data must be a string or a Uint8Array.*got object.*JSON\.stringify/],
      ['a number as data', ['f', 5], /data must be a string or a Uint8Array.*got number 5/],
      ['missing data', ['f'], /data must be a string or a Uint8Array.*got undefined/],
      ['options that are not an object', ['f', 'x', 'utf8'], /options must be an object, got the string "utf8"/],
      ['a fractional mode', ['f', 'x', { mode: 1.5 }], /options.mode must be an integer/],
      ['a mode out of range', ['f', 'x', { mode: 0o10000 }], /options.mode must be between 0 and 4095/],
      ['an unknown encoding', ['f', 'x', { encoding: 'utf-9' }], /options.encoding must be a Buffer encoding/],
      ['a non-boolean fsync', ['f', 'x', { fsync: 'no' }], /options.fsync must be true or false/],
      ['a lock without assertHeld', ['f', 'x', { lock: {} }], /options.lock must be a Lock/],
    ])('refuses %s with InvalidArgumentError', async (_label, args, message) => {
      fsFaults.record();
      const error: unknown = await call(...args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
      expect(fsFaults.calls).toEqual([]);
    });
  });
});
