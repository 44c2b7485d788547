import { dirname } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  bodyOf,
  eventually,
  fixtureFunction,
  fixtureHandler,
  HANDLER,
  startHarness,
  type Echo,
  type Harness,
  type PidAnswer,
} from '../helpers/runtime.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

const reportsOf = (lines: string[]): string[] => lines.filter((line) => line.includes('REPORT RequestId:'));

describe('execution environments', () => {
  it('starts one environment cold, then reuses it warm: Init Duration on the first REPORT only', async () => {
    const first = await bodyOf<PidAnswer>(fetch(`${harness.api.url}/pid`));
    const second = await bodyOf<PidAnswer>(fetch(`${harness.api.url}/pid`));
    expect(second.pid).toBe(first.pid);
    expect(second.invocations).toBe(first.invocations + 1);
    const reports = reportsOf(harness.lines);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatch(/\tInit Duration: \d+\.\d\d ms/);
    expect(reports[1]).not.toMatch(/Init Duration/);
    expect(reports[1]).toMatch(
      /^\[fixture\] REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB$/,
    );
    expect(harness.lines.filter((line) => line.includes('INIT_START'))).toHaveLength(1);
  });

  it('gives the handler the payload 2.0 event, Lambda’s context and Lambda’s environment', async () => {
    const sentAt = Date.now();
    const response = await fetch(`${harness.api.url}/echo/x?a=1&a=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'c1=1; c2=2', 'x-multi': 'v1' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(response.status).toBe(200);
    const apiRequestId = response.headers.get('apigw-requestid');
    const { event, context, env, execArgv, cwd } = await bodyOf<Echo>(response);
    const answeredAt = Date.now();

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'ANY /{proxy+}',
      rawPath: '/echo/x',
      rawQueryString: 'a=1&a=2',
      cookies: ['c1=1', 'c2=2'],
      queryStringParameters: { a: '1,2' },
      pathParameters: { proxy: 'echo/x' },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        requestId: apiRequestId,
        routeKey: 'ANY /{proxy+}',
        stage: '$default',
        http: { method: 'POST', path: '/echo/x', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-multi': 'v1', 'x-forwarded-proto': 'http' });
    expect(event.headers.cookie).toBeUndefined();
    // When API Gateway received the request: between sending it and having the answer.
    expect(event.requestContext.timeEpoch).toBeGreaterThanOrEqual(sentAt);
    expect(event.requestContext.timeEpoch).toBeLessThanOrEqual(answeredAt);

    expect(context).toMatchObject({
      functionName: 'fixture',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fixture',
      logGroupName: '/aws/lambda/fixture',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    // A real deadline: the fixture's 10 s timeout, some of it spent (how much depends on the load).
    expect(context.remaining).toBeGreaterThan(0);
    expect(context.remaining).toBeLessThanOrEqual(10_000);

    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'fixture',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_REGION: expect.any(String),
      _HANDLER: 'handler.handler',
      DATA_DIR: `${harness.api.efsRoot}/data`,
      TZ: ':UTC',
    });
    expect(env._X_AMZN_TRACE_ID).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Sampled=0$/);
    expect(execArgv).toContain('--max-old-space-size=115');
    expect(cwd).toBe(dirname(HANDLER)); // the code's directory, as /var/task
    expect(harness.lines.some((line) => line.includes(`START RequestId: ${context.awsRequestId} Version: $LATEST`))).toBe(true);
  });

  it('tags the function’s console output with the request id, and keeps direct writes in order, between START and END', async () => {
    const before = harness.lines.length;
    await fetch(`${harness.api.url}/log`);
    const lines = harness.lines.slice(before);
    const requestId = /START RequestId: (\S+)/.exec(lines[0] ?? '')?.[1];
    expect(requestId).toBeDefined();
    expect(lines[1]).toMatch(new RegExp(`^\\[fixture\\] \\d{4}-[\\d-]+T[\\d:.]+Z\\t${requestId}\\tINFO\\thello from the handler 42$`));
    expect(lines[2]).toMatch(new RegExp(`\\t${requestId}\\tERROR\\tan error line$`));
    expect(lines[3]).toBe('[fixture] raw write');
    expect(lines[4]).toBe(`[fixture] END RequestId: ${requestId}`);
  });

  it('answers a string result as 200 with that body, and undefined as null', async () => {
    const logged = await fetch(`${harness.api.url}/log`);
    expect(logged.status).toBe(200);
    expect(logged.headers.get('content-type')).toBe('application/json');
    expect(await logged.text()).toBe('logged');
    const nothing = await fetch(`${harness.api.url}/undefined`);
    expect(await nothing.text()).toBe('null');
  });

  it('answers a structured result as given, with one set-cookie per cookie and a base64 body decoded', async () => {
    const result = {
      statusCode: 418,
      headers: { 'content-type': 'application/octet-stream', 'x-custom': 'yes' },
      cookies: ['a=1; HttpOnly', 'b=2'],
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    };
    const response = await fetch(`${harness.api.url}/result`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ result }),
    });
    expect(response.status).toBe(418);
    expect(response.headers.get('x-custom')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1; HttpOnly', 'b=2']);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
  });

  it('answers a large text body byte for byte, as small ones (it crosses from the environment as bytes)', async () => {
    // A shorter large body after a longer one: the environment encodes both into the same buffer.
    for (const lines of [1, 10_000, 3_000, 10_001]) {
      const body = `${'a line of the wall, ünïcode 🙂 and a lone surrogate \ud800\n'.repeat(lines)}`;
      const result = {
        statusCode: 201,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-lines': lines },
        body,
        isBase64Encoded: false,
      };
      const response = await fetch(`${harness.api.url}/result`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ result }),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-lines')).toBe(String(lines));
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.equals(Buffer.from(body, 'utf8'))).toBe(true);
      expect(response.headers.get('content-length')).toBe(String(bytes.length));
    }
  });

  it('answers results that JSON changes (Dates, toJSON, undefined, NaN, holes, instances, proxies) as Lambda’s JSON.stringify makes them', async () => {
    const values = await fetch(`${harness.api.url}/not-plain?kind=values`);
    expect(await values.text()).toBe(
      '{"when":"1970-01-01T00:00:00.000Z","nan":null,"negativeZero":0,"list":[null,1,null,3],"custom":"custom"}',
    );
    const instance = await fetch(`${harness.api.url}/not-plain?kind=instance`);
    expect([instance.status, instance.headers.get('x-from'), await instance.text()]).toEqual([201, 'class instance', 'from a class']);
    const proxy = await fetch(`${harness.api.url}/not-plain?kind=proxy`);
    expect([proxy.status, await proxy.text()]).toEqual([202, 'through a proxy']);
    const circular = await fetch(`${harness.api.url}/not-plain?kind=circular`);
    expect(circular.status).toBe(500);
    expect(
      harness.lines.some((line) =>
        /\tERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"Converting circular structure to JSON/.test(line),
      ),
    ).toBe(true);
  });

  it('answers a malformed result with 500 Internal Server Error', async () => {
    const response = await fetch(`${harness.api.url}/result`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ result: { statusCode: 200, body: { not: 'a string' } } }),
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(harness.lines.some((line) => line.includes('malformed result (body must be a string'))).toBe(true);
  });

  it('answers a handler error with 500 and logs Lambda’s Invoke Error record', async () => {
    const response = await fetch(`${harness.api.url}/throw`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(harness.lines.some((line) => /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"boom"/.test(line))).toBe(true);
  });
});

describe('log format json', () => {
  it('writes Lambda’s JSON records', async () => {
    const json = await startHarness({ logFormat: 'json' });
    try {
      await fetch(`${json.api.url}/log`);
      const records = json.lines.map(
        (line) => JSON.parse(line) as { type?: string; level?: string; record?: { requestId: string; metrics: Record<string, number> } },
      );
      expect(records.map((record) => record.type ?? record.level)).toEqual([
        'platform.initStart',
        'platform.start',
        'INFO',
        'ERROR',
        'INFO',
        'platform.runtimeDone',
        'platform.report',
      ]);
      const requestId = records[1]?.record?.requestId;
      expect(records[2]).toMatchObject({ requestId, message: 'hello from the handler 42', functionName: 'fixture' });
      expect(records[6]?.record?.metrics['initDurationMs']).toBeGreaterThan(0);
    } finally {
      await json.close();
    }
  });
});

describe('JSON log format: the function’s own JSON lines (issue 13)', () => {
  it('passes them through as objects, with the level each names', async () => {
    const json = await startHarness({ logFormat: 'json' });
    try {
      await fetch(`${json.api.url}/structured-log`);
      await eventually(() => json.lines.some((line) => line.includes('"platform.report"')));
      const records = json.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const requestId = (records.find((record) => record['type'] === 'platform.start')?.['record'] as { requestId: string }).requestId;
      expect(records.filter((record) => record['service'] === 'fixture')).toEqual([
        { level: 'INFO', message: 'served', service: 'fixture', durationMs: 1.5, requestId, functionName: 'fixture' },
        { level: 'WARN', message: 'refused', service: 'fixture', requestId, functionName: 'fixture' },
      ]);
    } finally {
      await json.close();
    }
  });
});

describe('handler styles', () => {
  const callback = fixtureHandler('callback.mjs');

  it('runs a callback-style handler on nodejs22.x', async () => {
    const run = await startHarness({ functions: [fixtureFunction({ entry: callback, runtime: 'nodejs22.x' })] });
    try {
      expect(await (await fetch(`${run.api.url}/x`)).json()).toEqual({ style: 'callback' });
    } finally {
      await run.close();
    }
  });

  it('refuses a callback-style handler on nodejs24.x at init, as Lambda does', async () => {
    const run = await startHarness({ functions: [fixtureFunction({ entry: callback, runtime: 'nodejs24.x' })] });
    try {
      const response = await fetch(`${run.api.url}/x`);
      expect(response.status).toBe(500);
      expect(run.lines.some((line) => line.includes('Runtime.CallbackHandlerDeprecated'))).toBe(true);
      expect(
        run.lines.some((line) =>
          /INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Runtime.CallbackHandlerDeprecated/.test(line),
        ),
      ).toBe(true);
    } finally {
      await run.close();
    }
  });

  it('answers 500 when init fails and starts a new environment for the next request', async () => {
    const entry = fixtureHandler('init-error.mjs');
    const run = await startHarness({ functions: [fixtureFunction({ entry })] });
    try {
      expect((await fetch(`${run.api.url}/x`)).status).toBe(500);
      expect((await fetch(`${run.api.url}/x`)).status).toBe(500);
      expect(run.lines.filter((line) => line.includes('INIT_START'))).toHaveLength(2);
      expect(
        run.lines.some((line) =>
          /\tundefined\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"init failed on purpose"/.test(line),
        ),
      ).toBe(true);
      expect(run.api.environmentPids()).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
