import { afterEach, describe, expect, it } from 'vitest';

import { eventually, fixtureFunction, startedInvocations, startHarness, type Harness } from '../helpers/runtime.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function pidOf(response: Response): Promise<number> {
  return ((await response.json()) as { pid: number }).pid;
}

describe('concurrency', () => {
  it('runs N concurrent slow requests in N environments, one invocation each', async () => {
    // Slow enough that none ends before the last one is dispatched, even on a busy machine.
    harness = await startHarness({ functions: [fixtureFunction({ reservedConcurrency: 4, timeoutSeconds: 5 })] });
    const { url } = harness.api;
    const responses = await Promise.all(Array.from({ length: 4 }, () => fetch(`${url}/sleep?ms=1500`)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    const pids = await Promise.all(responses.map(pidOf));
    expect(new Set(pids).size).toBe(4);
    expect(harness.api.environmentPids().sort()).toEqual([...pids].sort());
    // Warm now: four more concurrent requests reuse the same four environments.
    const again = await Promise.all(Array.from({ length: 4 }, () => fetch(`${url}/sleep?ms=100`)));
    expect(new Set(await Promise.all(again.map(pidOf)))).toEqual(new Set(pids));
  });

  it('throttles the request over the reserved concurrency with API Gateway’s 500, and serves again after', async () => {
    harness = await startHarness({ functions: [fixtureFunction({ reservedConcurrency: 2, timeoutSeconds: 10 })] });
    const { url } = harness.api;
    const slow = [fetch(`${url}/sleep?ms=2000`), fetch(`${url}/sleep?ms=2000`)];
    // Both environments have started and taken their invocation.
    await eventually(() => startedInvocations(harness!.lines) === 2);
    const throttled = await fetch(`${url}/pid`);
    expect(throttled.status).toBe(500);
    expect(await throttled.json()).toEqual({ message: 'Internal Server Error' });
    expect((await Promise.all(slow)).map((response) => response.status)).toEqual([200, 200]);
    expect(harness.lines.some((line) => line.includes('throttled') && line.includes('reserved concurrency'))).toBe(true);
    expect((await fetch(`${url}/pid`)).status).toBe(200);
    expect(harness.api.environmentPids()).toHaveLength(2);
  });

  it('throttles every request of a function with reserved concurrency 0', async () => {
    harness = await startHarness({ functions: [fixtureFunction({ reservedConcurrency: 0 })] });
    expect((await fetch(`${harness.api.url}/pid`)).status).toBe(500);
    expect(harness.api.environmentPids()).toEqual([]);
  });

  it('caps a function without reserved concurrency at the default', async () => {
    harness = await startHarness({ defaultConcurrency: 1, functions: [fixtureFunction({ timeoutSeconds: 10 })] });
    const { url } = harness.api;
    const slow = fetch(`${url}/sleep?ms=2000`);
    await eventually(() => startedInvocations(harness!.lines) === 1);
    expect((await fetch(`${url}/pid`)).status).toBe(500);
    expect((await slow).status).toBe(200);
  });
});
