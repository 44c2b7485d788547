import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import {
  eventually,
  fixtureFunction,
  HANDLER,
  processExists,
  processState,
  startedInvocations,
  startHarness,
  tempDir,
  type Harness,
} from '../helpers/runtime.js';

let harness: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function json(url: string): Promise<Record<string, number>> {
  return (await (await fetch(url)).json()) as Record<string, number>;
}

describe('lifecycle', () => {
  it('close() ends every execution environment, busy and idle, and the server', async () => {
    harness = await startHarness({ functions: [fixtureFunction({ timeoutSeconds: 10 })] });
    const { url } = harness.api;
    await Promise.all([fetch(`${url}/pid`), fetch(`${url}/sleep?ms=200`)]);
    const busy = fetch(`${url}/sleep?ms=5000`).catch(() => undefined);
    await eventually(() => harness!.api.environmentPids().length === 2);
    // The slow invocation has begun in its environment: close() finds it busy.
    await eventually(() => startedInvocations(harness!.lines) === 3);
    const pids = harness.api.environmentPids();
    await harness.api.close();
    expect(pids.filter(processExists)).toEqual([]);
    expect(harness.api.environmentPids()).toEqual([]);
    await busy;
    await expect(fetch(`${url}/pid`)).rejects.toThrow();
  });

  it('ends environments idle longer than the idle timeout', async () => {
    harness = await startHarness({ idleTimeoutMs: 200 });
    const { pid } = await json(`${harness.api.url}/pid`);
    await eventually(() => !processExists(pid as number));
    expect(harness.api.environmentPids()).toEqual([]);
    expect((await json(`${harness.api.url}/pid`)).invocations).toBe(1);
  });

  it('recycles the environments when the handler is rebuilt', async () => {
    const code = tempDir('local-runtime-code-');
    dirs.push(code);
    const entry = join(code, 'handler.mjs');
    copyFileSync(HANDLER, entry);
    harness = await startHarness({ functions: [fixtureFunction({ entry })], watch: true });
    const { url } = harness.api;
    const before = await json(`${url}/pid`);
    writeFileSync(
      entry,
      readFileSync(entry, 'utf8').replace('return { action, invocations }', 'return { action, invocations, rebuilt: true }'),
    );
    await eventually(() => !processExists(before['pid'] as number));
    expect(await json(`${url}/other`)).toEqual({ action: 'other', invocations: 1, rebuilt: true });
    expect(harness.lines.some((line) => line.includes('fixture: code changed'))).toBe(true);
  });

  it('freezes idle environments: their timers do not run between invocations', async () => {
    // Judged on events, not on how fast the machine is: the idle environment is seen stopped (SIGSTOP,
    // state T) and stays so while the unfrozen one's timers tick 30 times; the fixture's 10 ms timer
    // records when it ran, and none ran in that window. Then an invocation thaws it and they run again.
    const frozen = await startHarness();
    const thawed = await startHarness({ freeze: false });
    try {
      const ticks = async (h: Harness): Promise<{ ticks: number; times: number[] }> =>
        (await (await fetch(`${h.api.url}/ticks`)).json()) as { ticks: number; times: number[] };
      await Promise.all([ticks(frozen), ticks(thawed)]);
      const [frozenPid] = frozen.api.environmentPids();
      const [thawedPid] = thawed.api.environmentPids();
      await eventually(() => processState(frozenPid!) === 'T');
      const stoppedFrom = Date.now();
      const thawedStart = (await ticks(thawed)).ticks;
      await eventually(async () => {
        expect(processState(frozenPid!)).toBe('T');
        expect(processState(thawedPid!)).not.toBe('T');
        return (await ticks(thawed)).ticks - thawedStart >= 30;
      });
      const stoppedUntil = Date.now();
      const { times } = await ticks(frozen);
      expect(times.filter((time) => time > stoppedFrom && time < stoppedUntil)).toEqual([]);
      // Thawed for an invocation, its timers run: the 10 ms interval is due before the 200 ms sleep ends.
      expect((await fetch(`${frozen.api.url}/sleep?ms=200`)).status).toBe(200);
      expect((await ticks(frozen)).times.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([frozen.close(), thawed.close()]);
    }
  });
});
