import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { eventually, fixtureFunction, HANDLER, processExists, startedInvocations, startHarness, tempDir, type Harness } from '../helpers/runtime.js';

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
    writeFileSync(entry, readFileSync(entry, 'utf8').replace("return { action, invocations }", "return { action, invocations, rebuilt: true }"));
    await eventually(() => !processExists(before['pid'] as number));
    expect(await json(`${url}/other`)).toEqual({ action: 'other', invocations: 1, rebuilt: true });
    expect(harness.lines.some((line) => line.includes('fixture: code changed'))).toBe(true);
  });

  it('freezes idle environments: their timers do not run between invocations', async () => {
    // The fixture counts 10 ms interval ticks. While the unfrozen one gains 30 (300 ms of its
    // timers, however long that takes on a busy machine), the frozen one gains almost none.
    const frozen = await startHarness();
    const thawed = await startHarness({ freeze: false });
    try {
      const ticks = async (h: Harness): Promise<number> => (await json(`${h.api.url}/ticks`))['ticks'] as number;
      const [frozenStart, thawedStart] = await Promise.all([ticks(frozen), ticks(thawed)]);
      await eventually(async () => (await ticks(thawed)) - thawedStart >= 30);
      expect((await ticks(frozen)) - frozenStart).toBeLessThan(5);
    } finally {
      await Promise.all([frozen.close(), thawed.close()]);
    }
  });
});
