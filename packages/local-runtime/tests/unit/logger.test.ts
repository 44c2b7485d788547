import { describe, expect, it } from 'vitest';

import { billedDurationMs, FunctionLogger } from '../../src/logs/logger.js';

function capture(format: 'text' | 'json'): { logger: FunctionLogger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new FunctionLogger('message-wall', format, (line) => lines.push(...line.split('\n'))), lines };
}

const ID = '8476a536-e9f4-11e8-9739-2dfe598c3fcd';

describe('FunctionLogger, text (Lambda’s default format)', () => {
  it('writes START, END and REPORT as Lambda does, with Init Duration on a cold start', () => {
    const { logger, lines } = capture('text');
    logger.start(ID);
    logger.endAndReport({
      requestId: ID,
      durationMs: 2.314,
      memorySizeMb: 256,
      maxMemoryUsedMb: 67,
      initDurationMs: 150.126,
      status: 'success',
    });
    expect(lines).toEqual([
      `[message-wall] START RequestId: ${ID} Version: $LATEST`,
      `[message-wall] END RequestId: ${ID}`,
      `[message-wall] REPORT RequestId: ${ID}\tDuration: 2.31 ms\tBilled Duration: 153 ms\tMemory Size: 256 MB\tMax Memory Used: 67 MB\tInit Duration: 150.13 ms`,
    ]);
  });

  it('names the status on a timeout and a runtime failure only', () => {
    const { logger, lines } = capture('text');
    logger.endAndReport({ requestId: ID, durationMs: 1000.2, memorySizeMb: 128, maxMemoryUsedMb: 40, status: 'timeout' });
    logger.endAndReport({ requestId: ID, durationMs: 3, memorySizeMb: 128, maxMemoryUsedMb: 40, status: 'error' });
    logger.endAndReport({
      requestId: ID,
      durationMs: 3,
      memorySizeMb: 128,
      maxMemoryUsedMb: 40,
      status: 'error',
      errorType: 'Runtime.ExitError',
    });
    expect(lines[1]).toMatch(/Max Memory Used: 40 MB\tStatus: timeout$/);
    expect(lines[3]).toMatch(/Max Memory Used: 40 MB$/);
    expect(lines[5]).toMatch(/\tStatus: error\tError Type: Runtime\.ExitError$/);
  });

  it('tags function output with the timestamp, request id and level', () => {
    const { logger, lines } = capture('text');
    logger.functionLine({ timestamp: '2024-01-01T00:00:00.000Z', level: 'INFO', requestId: ID, message: 'hello' });
    logger.functionLine({ timestamp: '2024-01-01T00:00:00.000Z', level: 'WARN', requestId: undefined, message: 'at init' });
    expect(lines).toEqual([
      `[message-wall] 2024-01-01T00:00:00.000Z\t${ID}\tINFO\thello`,
      '[message-wall] 2024-01-01T00:00:00.000Z\tundefined\tWARN\tat init',
    ]);
  });

  it('writes Lambda’s timeout line', () => {
    const { logger, lines } = capture('text');
    logger.timedOut(ID, 3);
    expect(lines[0]).toMatch(new RegExp(`^\\[message-wall\\] \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${ID} Task timed out after 3\\.00 seconds$`));
  });
});

describe('FunctionLogger, json (Lambda’s JSON format)', () => {
  it('writes platform records and function records with the request id', () => {
    const { logger, lines } = capture('json');
    logger.start(ID);
    logger.functionLine({ timestamp: '2024-01-01T00:00:00.000Z', level: 'INFO', requestId: ID, message: 'hello' });
    logger.endAndReport({
      requestId: ID,
      durationMs: 2.314,
      memorySizeMb: 256,
      maxMemoryUsedMb: 67,
      initDurationMs: 150.126,
      status: 'success',
    });
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ type: 'platform.start', record: { requestId: ID, version: '$LATEST' } });
    expect(records[1]).toEqual({
      timestamp: '2024-01-01T00:00:00.000Z',
      level: 'INFO',
      requestId: ID,
      message: 'hello',
      functionName: 'message-wall',
    });
    expect(records[2]).toMatchObject({ type: 'platform.runtimeDone', record: { requestId: ID, status: 'success' } });
    expect(records[3]).toMatchObject({
      type: 'platform.report',
      record: {
        requestId: ID,
        status: 'success',
        metrics: { durationMs: 2.31, billedDurationMs: 153, memorySizeMB: 256, maxMemoryUsedMB: 67, initDurationMs: 150.13 },
      },
    });
  });
});

describe('FunctionLogger, json: the function’s own JSON lines (issue 13)', () => {
  const powertools = (level: string, message: string): string =>
    JSON.stringify({
      level,
      message,
      timestamp: '2024-01-01T00:00:00.000Z',
      service: 'message-wall',
      function_request_id: ID,
      method: 'POST',
    });

  it('passes a JSON line through as an object, with the level it names, whatever the stream', () => {
    const { logger, lines } = capture('json');
    logger.raw(powertools('INFO', 'request served'), 'stdout', ID);
    logger.raw(powertools('WARN', 'request refused'), 'stderr', ID);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toEqual({
      ...(JSON.parse(powertools('INFO', 'request served')) as object),
      requestId: ID,
      functionName: 'message-wall',
    });
    expect(records[1]).toMatchObject({ level: 'WARN', message: 'request refused', method: 'POST', functionName: 'message-wall' });
    expect(typeof records[1]?.['message']).toBe('string');
  });

  it('passes a JSON line written through console through too, and keeps its own fields', () => {
    const { logger, lines } = capture('json');
    logger.functionLine({
      timestamp: '2024-01-01T00:00:00.000Z',
      level: 'INFO',
      requestId: ID,
      message: '{"level":"debug","message":"m","requestId":"own","functionName":"own"}',
    });
    expect(JSON.parse(lines[0] ?? '')).toEqual({ level: 'DEBUG', message: 'm', requestId: 'own', functionName: 'own' });
  });

  it('still wraps a plain line, and labels a plain stderr line ERROR', () => {
    const { logger, lines } = capture('json');
    logger.raw('plain text', 'stderr');
    logger.raw('{ not json', 'stdout');
    logger.raw('[1, 2]', 'stdout');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ level: 'ERROR', message: 'plain text', functionName: 'message-wall' });
    expect(records[1]).toMatchObject({ level: 'INFO', message: '{ not json' });
    expect(records[2]).toMatchObject({ level: 'INFO', message: '[1, 2]' });
  });

  it('keeps text format lines as written', () => {
    const { logger, lines } = capture('text');
    logger.raw(powertools('WARN', 'request refused'), 'stderr');
    expect(lines).toEqual([`[message-wall] ${powertools('WARN', 'request refused')}`]);
  });
});

describe('billedDurationMs', () => {
  it('rounds up to the millisecond and includes the init phase of a cold start', () => {
    expect(billedDurationMs({ durationMs: 0.06 })).toBe(1);
    expect(billedDurationMs({ durationMs: 12.01 })).toBe(13);
    expect(billedDurationMs({ durationMs: 1.5, initDurationMs: 100.2 })).toBe(102);
  });
});
