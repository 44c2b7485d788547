import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { defineFunction } from '@lambda-efs/function-spec';

import { environmentSpec } from '../../src/environments/lambda-environment.js';
import { FunctionPool, type PoolOutcome } from '../../src/environments/pool.js';
import { FunctionLogger, RuntimeNotes } from '../../src/logs/logger.js';
import { eventually, FIXTURES, processExists, tempDir } from '../helpers/runtime.js';

// Lambda limits the init phase to 10 s; an init that runs past it is retried at the first
// invocation, under the function timeout (Lambda developer guide, "Init phase"). The pool is
// built here with a 300 ms init limit, and the fixture's init lasts until the test opens a gate.

let pool: FunctionPool | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function slowInitPool(timeoutSeconds: number): { pool: FunctionPool; lines: string[]; gate: string } {
  const dir = tempDir('local-runtime-init-');
  dirs.push(dir);
  const gate = join(dir, 'gate');
  const lines: string[] = [];
  const sink = (line: string): void => {
    lines.push(...line.split('\n'));
  };
  const definition = defineFunction({
    name: 'slow-init',
    entry: join(FIXTURES, 'slow-init.mjs'),
    timeoutSeconds,
    environment: { INIT_GATE: gate },
  });
  const settings = { region: 'us-east-1', accountId: '123456789012', logFormat: 'text', mountDir: undefined, user: undefined } as const;
  pool = new FunctionPool({
    definition,
    maxEnvironments: 1,
    freeze: false,
    logger: new FunctionLogger(definition.name, 'text', sink),
    notes: new RuntimeNotes(sink),
    prepare: () => Promise.resolve({ ...environmentSpec(definition, settings), initTimeoutMs: 300 }),
  });
  return { pool, lines, gate };
}

describe('an init past the init limit', () => {
  it('is reported as timed out and goes on within the first invocation, which then succeeds', async () => {
    const { pool, lines, gate } = slowInitPool(30);
    const first = pool.invoke({}, 'Root=1-0-0');
    await eventually(() => lines.some((line) => /INIT_REPORT Init Duration: 300\.00 ms\tPhase: init\tStatus: timeout$/.test(line)));
    expect(pool.pids).toHaveLength(1);
    writeFileSync(gate, '');
    const [pid] = pool.pids;
    expect(await first).toMatchObject({ kind: 'result', result: { value: { pid } } });
    // One START for the invocation; its REPORT counts the rest of the init in its Duration.
    expect(lines.filter((line) => line.includes('START RequestId:'))).toHaveLength(1);
    const report = lines.find((line) => line.includes('REPORT RequestId:')) ?? '';
    expect(report).not.toMatch(/Init Duration|Status:/);
    // The environment is kept: the next invocation is warm in the same process.
    expect(await pool.invoke({}, 'Root=1-0-0')).toMatchObject({ kind: 'result', result: { value: { pid } } });
    expect(lines.filter((line) => line.includes('INIT_START'))).toHaveLength(1);
  });

  it('fails the invocation at the function timeout when the retried init does not end, and ends the environment', async () => {
    const { pool, lines } = slowInitPool(1);
    const pending = pool.invoke({}, 'Root=1-0-0');
    await eventually(() => pool.pids.length === 1);
    const [pid] = pool.pids;
    const outcome: PoolOutcome = await pending;
    expect(outcome).toMatchObject({ kind: 'failed', error: { errorType: 'Sandbox.Timedout' } });
    expect(lines.some((line) => line.includes('\tPhase: init\tStatus: timeout'))).toBe(true);
    expect(lines.some((line) => /Task timed out after 1\.00 seconds$/.test(line))).toBe(true);
    expect(lines.some((line) => /REPORT RequestId: .*\tStatus: timeout$/.test(line))).toBe(true);
    expect(pool.pids).toEqual([]);
    expect(processExists(pid!)).toBe(false);
  });
});
