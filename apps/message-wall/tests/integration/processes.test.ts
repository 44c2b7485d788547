import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { eventFor } from '../helpers/events.js';
import { lambdaContext, removeMount, tempMount, testHandler } from '../helpers/walls.js';
import { DIST_HANDLER, Worker, startTogether } from '../helpers/workers.js';
import { checkWall, makeMessage, parseMessage } from './fixtures/messages.mjs';

// Real child processes, each standing for one execution environment, calling the built handler
// (dist/handler.js) on one shared directory: the concurrency the local runtime and Lambda create,
// without either.

const STALE_MS = 500;
let dir: string;
let env: Record<string, string>;
const workers: Worker[] = [];

function spawn(scenario: string, options: Record<string, unknown> = {}): Worker {
  const worker = new Worker(scenario, options, env);
  workers.push(worker);
  return worker;
}

beforeEach(() => {
  dir = tempMount('message-wall-processes-');
  env = { MESSAGE_WALL_DIR: dir, MESSAGE_WALL_LOCK_STALE_MS: String(STALE_MS) };
});

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.kill();
    await worker.exited;
  }
  removeMount(dir);
});

function wallLines(file = join(dir, 'content')): string[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('concurrent environments', () => {
  // 600 POSTs under one lock with two readers spinning: minutes on a loaded 2-core CI machine.
  it(
    'stores N×M intact messages, each once and in each writer’s order, while lock-free readers only see whole messages',
    { timeout: 300_000 },
    async () => {
      const writers = 4;
      const count = 150;
      const posters = Array.from({ length: writers }, (_, id) => spawn('post', { id, count }));
      const readers = [0, 1].map(() => spawn('read', { prefixes: true }));
      const snapshots: Array<{ lines: number; last: string }> = [];
      for (const reader of readers) reader.onMessage((m) => m.type === 'snapshot' && snapshots.push(m as never));
      await startTogether([...posters, ...readers]);

      for (const poster of posters) {
        const done = await poster.expect('done');
        expect(done['acknowledged']).toBe(count);
        expect(done['badReplies']).toEqual([]);
      }
      for (const reader of readers) reader.send('stop');
      const reports = await Promise.all(readers.map((reader) => reader.expect('done')));

      const lines = wallLines();
      expect(checkWall(`${lines.join('\n')}\n`)).toEqual([]);
      expect(lines).toHaveLength(writers * count);
      expect(new Set(lines).size).toBe(writers * count);
      for (let id = 0; id < writers; id++) {
        const seqs = lines
          .map((line) => parseMessage(line))
          .filter((m) => m?.writer === id)
          .map((m) => m?.seq);
        expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i));
      }
      for (const report of reports) {
        expect(report['problems']).toEqual([]);
        expect(report['nonEmpty']).toBeGreaterThan(10);
      }
      // Every answer a reader got was a prefix of the final wall: its last line is the final wall's line at that position.
      expect(snapshots.length).toBeGreaterThan(10);
      for (const snapshot of snapshots) expect(lines[snapshot.lines - 1]?.slice(0, 40)).toBe(snapshot.last);
    },
  );

  it('shows readers the whole wall or none of it while another environment deletes it', async () => {
    const posters = [0, 1, 2].map((id) => spawn('post', { id, count: 120, wall: 'busy' }));
    const deleter = spawn('delete', { wall: 'busy', everyMs: 15 });
    const readers = [0, 1].map(() => spawn('read', { wall: 'busy' }));
    await startTogether([...posters, deleter, ...readers]);
    for (const poster of posters) expect((await poster.expect('done'))['badReplies']).toEqual([]);
    deleter.send('stop');
    for (const reader of readers) reader.send('stop');
    expect((await deleter.expect('done'))['deletes']).toBeGreaterThan(3);
    for (const reader of readers) {
      const report = await reader.expect('done');
      expect(report['problems']).toEqual([]);
      expect(report['reads']).toBeGreaterThan(10);
    }
  });
});

describe('environments that die', () => {
  it('keeps the wall intact and readable when environments are killed in the middle of POSTs', async () => {
    const acknowledged = new Set<string>();
    const steady = spawn('forever', { id: 0 });
    steady.onMessage((m) => m.type === 'ack' && acknowledged.add(makeMessage(0, m['seq'] as number)));
    await startTogether([steady]);
    for (let round = 1; round <= 6; round++) {
      const victim = spawn('forever', { id: round });
      victim.onMessage((m) => m.type === 'ack' && acknowledged.add(makeMessage(round, m['seq'] as number)));
      await startTogether([victim]);
      await new Promise((resolve) => setTimeout(resolve, 40 + round * 37));
      victim.kill('SIGKILL');
      await victim.exited;
    }
    steady.kill('SIGKILL');
    await steady.exited;

    // The wall is readable at once, lock-free, and holds whole messages only.
    const { handler } = testHandler(dir, env);
    const read = await handler(eventFor(), lambdaContext());
    expect(read.statusCode).toBe(200);
    expect(checkWall(read.body)).toEqual([]);
    // Every acknowledged message is there exactly once; unacknowledged ones at most once.
    const lines = read.body.slice(0, -1).split('\n');
    expect(new Set(lines).size).toBe(lines.length);
    for (const message of acknowledged) expect(lines).toContain(message);
    expect(acknowledged.size).toBeGreaterThan(20);

    // And the next POST goes through, within one lease if a victim died holding the lock.
    const startedAt = Date.now();
    const next = await handler(eventFor({ method: 'POST', body: 'after the crashes' }), lambdaContext());
    expect(next.statusCode).toBe(200);
    expect(Date.now() - startedAt).toBeLessThan(STALE_MS * 4);
    expect(checkWall(next.body.replace('after the crashes\n', ''))).toEqual([]);
    expect(wallLines().at(-1)).toBe('after the crashes');
  });

  it('takes over the lock of an environment killed while holding it, after one lease', async () => {
    const holder = spawn('hold', { file: join(dir, 'content'), staleMs: STALE_MS });
    await holder.expect('locked');
    holder.kill('SIGKILL');
    await holder.exited;
    const { handler, logs } = testHandler(dir, env);
    const answer = await handler(eventFor({ method: 'POST', body: 'took over' }), lambdaContext('req-takeover'));
    expect(answer).toMatchObject({ statusCode: 200, body: 'took over\n' });
    const waited = logs.find((entry) => entry.requestId === 'req-takeover')?.['lockWaitMs'] as number;
    expect(waited).toBeGreaterThanOrEqual(STALE_MS * 0.9);
    expect(waited).toBeLessThan(STALE_MS * 4);
  });

  it('answers 503 instead of waiting past its deadline while a live environment holds the lock', async () => {
    const holder = spawn('hold', { file: join(dir, 'content'), staleMs: 60_000 });
    await holder.expect('locked');
    const { handler } = testHandler(dir, env);
    const answer = await handler(eventFor({ method: 'POST', body: 'not now' }), lambdaContext('req-late', 800));
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect((await handler(eventFor(), lambdaContext())).body).toBe('No message yet.');
  });
});

describe('the built entry', () => {
  const run = promisify(execFile);

  it('fails at cold start, naming the variable, when MESSAGE_WALL_DIR is missing', async () => {
    const { MESSAGE_WALL_DIR: _unset, ...rest } = process.env;
    const failure = await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(DIST_HANDLER)})`], {
      env: rest,
    }).then(
      () => undefined,
      (error: { stderr: string; code: number }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(/ConfigError: MESSAGE_WALL_DIR is not set: set it to the mount path/);
  });

  it('imports only Node.js built-ins, its own files and its declared dependencies', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const allowed = new Set(Object.keys(manifest.dependencies));
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(
        /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      )) {
        const specifier = match[1] ?? match[2] ?? '';
        if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
        else if (!specifier.startsWith('node:')) external.add(specifier);
      }
    };
    visit(DIST_HANDLER);
    expect(seen.size).toBeGreaterThan(5);
    for (const specifier of external) expect(allowed.has(specifier), `${specifier} is not a dependency`).toBe(true);
    expect([...external].sort()).toEqual(['@lambda-efs/efs-utils', '@lambda-efs/lambda-http']);
    expect(readdirSync(dirname(DIST_HANDLER))).toContain('handler.js');
  });
});
