// The function's logs as a real process writes them: Powertools' JSON lines on stdout, with the
// invocation's context and the level from AWS_LAMBDA_LOG_LEVEL.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

const SCRIPT = `
const { httpFunction, textResponse } = await import(${JSON.stringify(DIST)});
const handler = httpFunction({ routes: { GET: async (r) => (r.annotate({ durationMsOfCore: 1 }), textResponse(200, 'ok')) }, errorFormat: 'text', example: 'x' });
const context = (id) => ({ awsRequestId: id, functionName: 'fn', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:fn', memoryLimitInMB: '256', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 5000 });
await handler({ requestContext: { requestId: 'api-1', http: { method: 'GET' } } }, context('req-1'));
await handler({ requestContext: { requestId: 'api-2', http: { method: 'PUT' } } }, context('req-2'));
`;

function run(env: Record<string, string>): Record<string, unknown>[] {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    env: {
      PATH: process.env['PATH'] ?? '',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      ...env,
    },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  return `${result.stdout}${result.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logs through Powertools', () => {
  it('writes one JSON line per request with Powertools’ standard keys and ours', () => {
    const [served, refused] = run({});
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
    expect(typeof served?.['timestamp']).toBe('string');
    expect(typeof served?.['durationMs']).toBe('number');
    expect(refused).toMatchObject({
      level: 'WARN',
      message: 'request refused',
      cold_start: false,
      function_request_id: 'req-2',
      status: 405,
    });
  });

  it('takes the level from AWS_LAMBDA_LOG_LEVEL', () => {
    const lines = run({ AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    expect(lines.map((line) => line['message'])).toEqual(['request refused']);
  });
});
