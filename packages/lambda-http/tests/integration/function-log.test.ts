// The function's logs as a real process writes them: JSON lines with Powertools' keys, the
// invocation's context and the level from the environment; compared key for key with what
// @aws-lambda-powertools/logger itself writes for the same entries.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

const CONTEXT = `const context = (id) => ({ awsRequestId: id, functionName: 'fn', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:fn', memoryLimitInMB: '256', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 5000 });`;

const HANDLER = `
const { httpFunction, textResponse } = await import(${JSON.stringify(DIST)});
${CONTEXT}
const handler = httpFunction({ routes: { GET: async (r) => (r.annotate({ durationMsOfCore: 1 }), textResponse(200, 'ok')) }, errorFormat: 'text', example: 'x' });
await handler({ requestContext: { requestId: 'api-1', http: { method: 'GET' } } }, context('req-1'));
await handler({ requestContext: { requestId: 'api-2', http: { method: 'PUT' } } }, context('req-2'));
`;

/** The same entries through our sink and through Powertools' logger, one JSON line each. */
const SIDE_BY_SIDE = `
const { functionLog, addLogContext } = await import(${JSON.stringify(DIST)});
const { Logger } = await import('@aws-lambda-powertools/logger');
${CONTEXT}
const fields = { apiRequestId: 'api-1', method: 'POST', status: 200, nested: { a: [1, 'two', null] }, empty: '', none: null, gone: undefined, zero: 0, no: false };
// Reserved keys: Powertools drops them (and warns on a line of its own, left out of the comparison).
const reserved = { timestamp: 'not a time', service: 'not ours', sampling_rate: 7 };
// As lambda-http configured Powertools before: the function's name when POWERTOOLS_SERVICE_NAME is unset.
const powertools = new Logger({ serviceName: process.env.AWS_LAMBDA_FUNCTION_NAME });
for (const id of ['req-1', 'req-2']) {
  addLogContext(context(id));
  functionLog({ level: 'INFO', requestId: id, message: 'request served', ...fields, ...reserved });
  functionLog({ level: 'WARN', requestId: id, message: 'request refused', ...fields });
  functionLog({ level: 'INFO', requestId: 'other', message: 'about another request', ...fields });
  powertools.addContext(context(id));
  powertools.info('request served', { ...fields, ...reserved });
  powertools.warn('request refused', fields);
  powertools.info('about another request', { requestId: 'other', ...fields });
}
`;

const BASE_ENV = {
  PATH: process.env['PATH'] ?? '',
  AWS_LAMBDA_FUNCTION_NAME: 'fn',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
};

function run(script: string, env: Record<string, string> = {}): { stdout: string[]; stderr: string[] } {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...BASE_ENV, ...env },
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  expect(result.status, result.stderr).toBe(0);
  const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
  return { stdout: lines(result.stdout), stderr: lines(result.stderr) };
}

const parse = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

describe('the function log', () => {
  it('writes one JSON line per request with Powertools’ standard keys and ours, WARN on stderr', () => {
    const { stdout, stderr } = run(HANDLER);
    expect(stdout).toHaveLength(1);
    expect(stderr).toHaveLength(1);
    const served = parse(stdout[0] ?? '');
    expect(served).toMatchObject({
      level: 'INFO',
      message: 'request served',
      service: 'fn',
      cold_start: true,
      function_request_id: 'req-1',
      function_name: 'fn',
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      apiRequestId: 'api-1',
      method: 'GET',
      status: 200,
      durationMsOfCore: 1,
    });
    expect(served['timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof served['durationMs']).toBe('number');
    expect(parse(stderr[0] ?? '')).toMatchObject({
      level: 'WARN',
      message: 'request refused',
      cold_start: false,
      function_request_id: 'req-2',
      status: 405,
    });
  });

  it('writes the same keys, in the same order and with the same values, as Powertools’ logger', () => {
    const output = run(SIDE_BY_SIDE);
    const warnings = output.stderr.filter((line) => String(parse(line)['message']).startsWith('The key "'));
    expect(warnings).toHaveLength(6); // Powertools' own, about the reserved keys (3 per context)
    const stdout = output.stdout;
    const stderr = output.stderr.filter((line) => !warnings.includes(line));
    const withoutTime = (line: string): Record<string, unknown> => {
      const { timestamp, ...rest } = parse(line);
      expect(typeof timestamp).toBe('string');
      return rest;
    };
    // Per stream: ours first (3 lines per context: 2 on stdout, 1 on stderr), then Powertools'.
    const ours = { stdout: stdout.filter((_, i) => i % 4 < 2), stderr: stderr.filter((_, i) => i % 2 === 0) };
    const theirs = { stdout: stdout.filter((_, i) => i % 4 >= 2), stderr: stderr.filter((_, i) => i % 2 === 1) };
    expect(ours.stdout).toHaveLength(4);
    expect(ours.stderr).toHaveLength(2);
    for (const stream of ['stdout', 'stderr'] as const) {
      ours[stream].forEach((line, i) => {
        const mine = withoutTime(line);
        const reference = withoutTime(theirs[stream][i] ?? '');
        expect(Object.keys(mine)).toEqual(Object.keys(reference));
        expect(mine).toEqual(reference);
      });
    }
  });

  it('takes the level from AWS_LAMBDA_LOG_LEVEL, then POWERTOOLS_LOG_LEVEL', () => {
    expect(run(HANDLER, { AWS_LAMBDA_LOG_LEVEL: 'WARN', POWERTOOLS_LOG_LEVEL: 'DEBUG' }).stdout).toEqual([]);
    const { stdout, stderr } = run(HANDLER, { POWERTOOLS_LOG_LEVEL: 'error' });
    expect([...stdout, ...stderr]).toEqual([]);
    expect(run(HANDLER, { POWERTOOLS_LOG_LEVEL: 'nonsense' }).stdout).toHaveLength(1);
  });

  it('keeps a line whose fields JSON cannot take (a cycle, a BigInt)', () => {
    const script = `
      const { functionLog } = await import(${JSON.stringify(DIST)});
      const cycle = { name: 'loop' }; cycle.self = cycle;
      functionLog({ level: 'INFO', requestId: 'init', message: 'odd fields', cycle, big: 10n });`;
    const [line] = run(script).stdout;
    expect(parse(line ?? '')).toMatchObject({ message: 'odd fields', cycle: { name: 'loop', self: '[Circular]' }, big: '10' });
  });
});
