import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendLine, lock } from '../../src/index.js';
import { eventually, hostNow, overlaps, startTogether, Worker, type Interval } from '../helpers/workers.js';

let dir: string;
let file: string;
const workers: Worker[] = [];

function spawnWorker(scenario: string, options: Record<string, unknown>): Worker {
  const worker = new Worker(scenario, options);
  workers.push(worker);
  return worker;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-lock-'));
  file = join(dir, 'content');
});

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.kill('SIGKILL');
    await worker.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function linesOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('appendLine across processes', () => {
  it('stores exactly N×M intact lines, each once and in each writer’s order', async () => {
    const processes = 6;
    const count = 300;
    const appenders = Array.from({ length: processes }, (_, id) => spawnWorker('append', { file, id, count, staleMs: 10_000 }));
    await startTogether(appenders);
    for (const appender of appenders) expect((await appender.next())['acknowledged']).toBe(count);

    const lines = linesOf(file);
    expect(lines).toHaveLength(processes * count);
    const seen = Array.from({ length: processes }, () => [] as number[]);
    for (const line of lines) {
      expect(line).toMatch(/^\d+:\d+$/);
      const [id, index] = line.split(':').map(Number) as [number, number];
      seen[id]?.push(index);
    }
    for (const indexes of seen) expect(indexes).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('leaves no lock directory and one staging directory per process behind', async () => {
    const appenders = [0, 1].map((id) => spawnWorker('append', { file, id, count: 20, staleMs: 10_000 }));
    await startTogether(appenders);
    for (const appender of appenders) await appender.next();
    const names = readdirSync(dir).sort();
    expect(names.filter((name) => !name.startsWith('.'))).toEqual(['content']);
    expect(names.filter((name) => name.startsWith('.content.lock.'))).toHaveLength(2);
  });
});

describe('exclusive and shared holders', () => {
  it('lets shared holders overlap and never lets an exclusive holder overlap anything', async () => {
    const readers = [0, 1, 2].map((id) => spawnWorker('intervals', { file, id, mode: 'shared', rounds: 25, holdMs: 8, staleMs: 5_000 }));
    const writers = [3, 4].map((id) => spawnWorker('intervals', { file, id, mode: 'exclusive', rounds: 25, holdMs: 2, staleMs: 5_000 }));
    await startTogether([...readers, ...writers]);
    const shared: Interval[][] = [];
    const exclusive: Interval[][] = [];
    for (const reader of readers) shared.push((await reader.next())['intervals'] as Interval[]);
    for (const writer of writers) exclusive.push((await writer.next())['intervals'] as Interval[]);

    const all = [...shared, ...exclusive];
    for (const [index, mine] of exclusive.entries()) {
      const others = all.filter((other) => other !== mine).flat();
      expect(overlaps(mine, others), `exclusive holder ${index} overlapped another holder`).toBe(0);
    }
    let sharedOverlaps = 0;
    for (let i = 0; i < shared.length; i++) {
      for (let j = i + 1; j < shared.length; j++) sharedOverlaps += overlaps(shared[i] ?? [], shared[j] ?? []);
    }
    expect(sharedOverlaps).toBeGreaterThan(0);
  });
});

describe('writers among many readers', () => {
  it('get the lock while readers keep overlapping, instead of starving', async () => {
    const readers = [0, 1, 2].map((id) => spawnWorker('intervals', { file, id, mode: 'shared', rounds: 80, holdMs: 25, staleMs: 5_000 }));
    const writer = spawnWorker('take', { file, mode: 'exclusive', staleMs: 5_000, holdMs: 5, timeoutMs: 60_000 });
    await Promise.all([...readers, writer].map((worker) => worker.ready()));
    for (const reader of readers) reader.send('go');
    await new Promise((resolve) => setTimeout(resolve, 300)); // readers now overlap continuously
    writer.send('go');
    const taken = await writer.next();
    const interval = taken['interval'] as Interval;
    const shared: Interval[] = [];
    for (const reader of readers) shared.push(...((await reader.next())['intervals'] as Interval[]));
    expect(overlaps([interval], shared)).toBe(0);
    // Not starved: the writer got in while the readers still had rounds to go. (Measured in turns,
    // not in milliseconds, so a slow machine does not change the verdict.) A writer that waits for
    // a moment without readers gets in only after their last round.
    const readsAfter = shared.filter(([start]) => start >= interval[1]).length;
    expect(readsAfter, `the writer waited ${Number(taken['waitedMs']).toFixed(0)} ms`).toBeGreaterThan(0);
  });
});

describe('a holder that dies', () => {
  it('is taken over after staleMs, and no acknowledged line is lost', async () => {
    const staleMs = 400;
    const holder = spawnWorker('hold', { file, mode: 'exclusive', staleMs });
    await holder.ready();
    const heldAt = (await holder.next())['at'] as number;
    const appenders = [0, 1, 2].map((id) => spawnWorker('append', { file, id, count: 50, staleMs }));
    await startTogether(appenders);
    holder.kill('SIGKILL');
    await holder.exited;

    for (const appender of appenders) expect((await appender.next())['acknowledged']).toBe(50);
    const lines = linesOf(file);
    expect(lines).toHaveLength(150);
    expect(new Set(lines).size).toBe(150);
    expect(hostNow() - heldAt).toBeGreaterThanOrEqual(staleMs);
  });

  it('is taken over by exactly one of many waiters at a time', async () => {
    const staleMs = 1_000;
    const holder = spawnWorker('hold', { file, mode: 'exclusive', staleMs });
    await holder.ready();
    const heldAt = (await holder.next())['at'] as number;
    holder.kill('SIGKILL');
    await holder.exited;

    const waiters = Array.from({ length: 8 }, () => spawnWorker('take', { file, mode: 'exclusive', staleMs, holdMs: 40 }));
    await startTogether(waiters);
    const intervals: Interval[] = [];
    for (const waiter of waiters) intervals.push((await waiter.next())['interval'] as Interval);

    intervals.sort((a, b) => a[0] - b[0]);
    expect(intervals[0]?.[0]).toBeGreaterThanOrEqual(heldAt + staleMs);
    // One at a time: no two holders whose leases held (assertHeld passed after their interval)
    // overlap. A holder starved past its lease on a loaded machine may be taken over, and is told
    // so; most keep theirs.
    const keptLeases = intervals.filter(([, , kept]) => kept !== false);
    expect(keptLeases.length).toBeGreaterThanOrEqual(4);
    const origin = intervals[0]?.[0] ?? 0;
    const shown = intervals.map(([start, end, kept]) => `[${(start - origin).toFixed(3)}, ${(end - origin).toFixed(3)}, kept ${kept}]`);
    keptLeases.forEach((interval, i) => {
      const others = keptLeases.filter((_, j) => j !== i);
      expect(overlaps([interval], others), `waiter ${i} overlapped another holder: ${shown.join(' ')}`).toBe(0);
    });
  });
});

describe('a shared holder that dies', () => {
  // A writer waiting behind a dead reader must reap the reader's lease, although the writer's
  // own reservation (the directory the reader's entry sits in) is renamed on every renewal.
  // The live holders must keep their leases throughout (the checks below rely on it): 2 s leaves
  // room for a process starved by a loaded CI machine.
  const staleMs = 2_000;
  const now = hostNow;
  const lockDirHasReservation = (): boolean => {
    try {
      return readdirSync(`${file}.lock`).some((name) => name.startsWith('d.'));
    } catch {
      return false;
    }
  };

  async function readerIntervals(readers: Worker[]): Promise<Interval[]> {
    const intervals: Interval[] = [];
    for (const reader of readers) intervals.push(...((await reader.next())['intervals'] as Interval[]));
    return intervals;
  }

  it('is reaped by a writer that arrives later, while other readers keep coming', async () => {
    const dead = spawnWorker('hold', { file, mode: 'shared', staleMs });
    await dead.ready();
    const heldAt = (await dead.next())['at'] as number;
    const readers = [0, 1].map((id) => spawnWorker('intervals', { file, id, mode: 'shared', rounds: 40, holdMs: 10, staleMs }));
    await startTogether(readers);
    dead.kill('SIGKILL');
    await dead.exited;

    // The timeout is far above staleMs: the writer must get in, not merely fail late.
    const writer = spawnWorker('take', { file, mode: 'exclusive', staleMs, holdMs: 30, timeoutMs: 30 * staleMs });
    await startTogether([writer]);
    const interval = (await writer.next())['interval'] as Interval;
    expect(interval[0]).toBeGreaterThanOrEqual(heldAt + staleMs);
    const shared = await readerIntervals(readers);
    expect(shared).toHaveLength(80);
    expect(interval[2], 'the writer kept its lease through its interval').toBe(true);
    expect(overlaps([interval], shared)).toBe(0);
  });

  it('is reaped when killed while a writer already waits behind it, and the writer gets in only after', async () => {
    const dead = spawnWorker('hold', { file, mode: 'shared', staleMs });
    await dead.ready();
    await dead.next(); // held
    const readers = [0, 1].map((id) => spawnWorker('intervals', { file, id, mode: 'shared', rounds: 40, holdMs: 10, staleMs }));
    await startTogether(readers);
    const writer = spawnWorker('take', { file, mode: 'exclusive', staleMs, holdMs: 30, timeoutMs: 30 * staleMs });
    await startTogether([writer]);
    await eventually(lockDirHasReservation); // the writer reserved the next turn: the readers drain
    const killedAt = now();
    dead.kill('SIGKILL');
    await dead.exited;

    const interval = (await writer.next())['interval'] as Interval;
    // The dead reader held a valid lease until it was killed: the writer cannot have been in before.
    expect(interval[0]).toBeGreaterThanOrEqual(killedAt);
    const shared = await readerIntervals(readers);
    expect(shared).toHaveLength(80);
    expect(interval[2], 'the writer kept its lease through its interval').toBe(true);
    expect(overlaps([interval], shared)).toBe(0);
  });
});

describe('a holder that stalls past its lease', () => {
  it('learns it lost the lock and writes nothing', async () => {
    const staleMs = 300;
    const stalled = spawnWorker('hold', { file, mode: 'exclusive', staleMs });
    await stalled.ready();
    await stalled.next(); // held
    stalled.kill('SIGSTOP');

    const taker = spawnWorker('take', { file, mode: 'exclusive', staleMs, holdMs: 1_000 });
    await startTogether([taker]);
    await new Promise((resolve) => setTimeout(resolve, staleMs * 2));
    stalled.kill('SIGCONT');
    stalled.send('check');
    const result = await stalled.next();
    expect(result).toMatchObject({
      type: 'checked',
      assertHeld: 'ELOCKCOMPROMISED',
      append: 'ELOCKCOMPROMISED',
      atomicWrite: 'ELOCKCOMPROMISED',
    });
    const interval = (await taker.next())['interval'] as Interval;
    expect(interval[1] - interval[0]).toBeGreaterThanOrEqual(1_000 - 5);
    expect(() => readFileSync(file, 'utf8')).toThrow(/ENOENT/);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  // What a holder's requests that NFS delivers late would do, done by hand on a real file system
  // once its lease was taken over: the WRITE through the descriptor it opened under the lease, the
  // rename of its new version (atomicWriteFile's temporary file), the rename of its release.
  it('cannot change anything once taken over: its late write, commit and release land nowhere', async () => {
    const staleMs = 300;
    writeFileSync(file, 'before\n', { mode: 0o640 });
    const stalled = spawnWorker('hold', { file, mode: 'exclusive', staleMs });
    await stalled.ready();
    await stalled.next(); // held
    const [entry] = readdirSync(`${file}.lock`);
    const token = entry?.split('.')[1] ?? '';
    expect(entry).toMatch(/^x\.[0-9a-f]+\.[0-9a-z]+$/);
    const lateWrite = openSync(file, 'a');
    const lateVersion = join(dir, `.content.${token}.tmp`);
    writeFileSync(lateVersion, 'an older version\n');
    stalled.kill('SIGSTOP');

    await appendLine(file, 'acknowledged after the takeover', { staleMs, timeoutMs: 10_000 });
    const next = await lock(file, { staleMs, timeoutMs: 10_000 });
    try {
      writeSync(lateWrite, 'a late WRITE\n');
      closeSync(lateWrite);
      expect(() => renameSync(lateVersion, file)).toThrow(/ENOENT/);
      expect(() => renameSync(`${file}.lock`, join(dir, `.content.lock.${token}`))).toThrow(/ENOTDIR/);
      await next.assertHeld();
    } finally {
      await next.release();
    }
    expect(readFileSync(file, 'utf8')).toBe('before\nacknowledged after the takeover\n');
    expect(statSync(file).mode & 0o777).toBe(0o640);

    stalled.kill('SIGCONT');
    stalled.send('check');
    expect(await stalled.next()).toMatchObject({
      assertHeld: 'ELOCKCOMPROMISED',
      append: 'ELOCKCOMPROMISED',
      atomicWrite: 'ELOCKCOMPROMISED',
    });
    expect(readFileSync(file, 'utf8')).toBe('before\nacknowledged after the takeover\n');
  });
});
