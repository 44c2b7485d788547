import { afterEach, describe, expect, it } from 'vitest';

import { bodyOf, eventually, fixtureFunction, processExists, startHarness, type Harness, type PidAnswer } from '../helpers/runtime.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function pid(url: string): Promise<number> {
  return ((await (await fetch(`${url}/pid`)).json()) as { pid: number }).pid;
}

describe('faults', () => {
  it('kills the environment at the function timeout, logs Lambda’s line, and starts a fresh one next', async () => {
    harness = await startHarness({ functions: [fixtureFunction({ timeoutSeconds: 1 })] });
    const { url } = harness.api;
    const first = await pid(url);
    const started = Date.now();
    // The handler would sleep 40 s: ended at its 1 s timeout, the answer comes long before that
    // (the bound is far from both, so a busy machine cannot make it fail).
    const response = await fetch(`${url}/sleep?ms=40000`);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(processExists(first)).toBe(false);
    expect(harness.lines.some((line) => /^\[fixture\] \S+Z [0-9a-f-]{36} Task timed out after 1\.00 seconds$/.test(line))).toBe(true);
    // The duration is the time until the timeout fired: at least the timeout, later on a busy machine.
    const report = harness.lines.find((line) => /REPORT RequestId: .*\tStatus: timeout$/.test(line));
    expect(Number(/\tDuration: (\d+\.\d\d) ms/.exec(report ?? '')?.[1])).toBeGreaterThanOrEqual(1000);
    const next = await bodyOf<PidAnswer>(fetch(`${url}/pid`));
    expect(next.pid).not.toBe(first);
    expect(next.invocations).toBe(1);
    expect(harness.lines.filter((line) => line.includes('INIT_START'))).toHaveLength(2);
  });

  it('recovers from a crash (process.exit) with a fresh environment', async () => {
    harness = await startHarness();
    const { url } = harness.api;
    const first = await pid(url);
    expect((await fetch(`${url}/exit`)).status).toBe(500);
    expect(harness.lines).toContain(
      `[fixture] ${harness.lines.find((line) => line.includes('Runtime exited with error: exit status 3'))?.slice('[fixture] '.length)}`,
    );
    expect(harness.lines.some((line) => line.endsWith('\tStatus: error\tError Type: Runtime.ExitError'))).toBe(true);
    const next = await pid(url);
    expect(next).not.toBe(first);
  });

  it('ends the environment on an uncaught exception, as Lambda’s runtime does', async () => {
    harness = await startHarness();
    const { url } = harness.api;
    expect((await fetch(`${url}/uncaught`)).status).toBe(500);
    expect(
      harness.lines.some((line) => line.includes('\tERROR\tUncaught Exception \t{"errorType":"Error","errorMessage":"uncaught boom"')),
    ).toBe(true);
    expect(harness.lines.some((line) => line.includes('Runtime exited with error: exit status 129'))).toBe(true);
    expect((await fetch(`${url}/pid`)).status).toBe(200);
  });

  it('answers 503 after the integration timeout while the function runs on to its own timeout', async () => {
    harness = await startHarness({
      functions: [fixtureFunction({ timeoutSeconds: 30 })],
      integrationTimeoutMs: 300,
    });
    const { url } = harness.api;
    const response = await fetch(`${url}/sleep?ms=800`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: 'Service Unavailable' });
    // The invocation completes in its environment, which then serves the next request warm.
    await eventually(() => harness!.lines.some((line) => line.includes('REPORT RequestId:')));
    expect(harness.lines.some((line) => line.includes('Status: timeout'))).toBe(false);
  });

  it('answers 500 when the result is over Lambda’s 6 MB, and keeps the environment', async () => {
    // Making and passing on 6 MB can take seconds on a busy machine: the 500 must be the size's
    // (the REPORT says which), never a timeout's.
    harness = await startHarness({ functions: [fixtureFunction({ timeoutSeconds: 30 })] });
    const { url } = harness.api;
    const first = await pid(url);
    const response = await fetch(`${url}/big?bytes=${6 * 1024 * 1024 + 200}`);
    expect(response.status).toBe(500);
    expect(harness.lines.filter((line) => line.includes('REPORT RequestId:') && line.includes('\tStatus: '))).toEqual([
      expect.stringMatching(/\tStatus: error\tError Type: Function\.ResponseSizeTooLarge$/),
    ]);
    await eventually(() => harness!.lines.some((line) => line.includes('exceeded maximum allowed payload size (6291556 bytes)')));
    expect(await pid(url)).toBe(first);
    // Exactly at the limit: the JSON text (the string and its two quotes) is 6,291,556 bytes.
    const atLimit = await fetch(`${url}/big?bytes=${6 * 1024 * 1024 + 100 - 2}`);
    expect(atLimit.status).toBe(200);
    expect((await atLimit.text()).length).toBe(6 * 1024 * 1024 + 98);
  });
});
