// Lambda's Invoke API, driven by the real @aws-sdk/client-lambda pointed at the local endpoint.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { defineFunction } from '@lambda-efs/function-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SANDBOX_HOME } from '../../src/environments/lambda-environment.js';
import { PLATFORM_LIMITS } from '../../src/index.js';
import { eventually, fixtureFunction, fixtureHandler, isRoot, startHarness, type Harness } from '../helpers/runtime.js';

const INVOKE = fixtureHandler('invoke.mjs');

let harness: Harness;
let lambda: LambdaClient;

function client(endpoint: string): LambdaClient {
  // Any credentials: the local endpoint does not check signatures. One attempt: the SDK retries
  // throttles and server errors, which would hide what the endpoint answered.
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

function payload(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

function parsed(output: InvokeCommandOutput): unknown {
  return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8'));
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

beforeAll(async () => {
  harness = await startHarness({
    functions: [
      fixtureFunction({ name: 'invoked', entry: INVOKE, routes: [], timeoutSeconds: 2 }),
      fixtureFunction({ name: 'single', entry: INVOKE, routes: [], reservedConcurrency: 1, timeoutSeconds: 5 }),
      defineFunction({ name: 'routed', entry: INVOKE, routes: ['GET /routed'] }),
    ],
    invokePort: 0,
  });
  lambda = client(harness.api.invokeUrl ?? '');
});

afterAll(async () => {
  lambda.destroy();
  await harness.close();
});

describe('the Invoke API (POST /2015-03-31/functions/{name}/invocations)', () => {
  it('serves on its own port, beside the HTTP API', () => {
    expect(harness.api.invokeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(harness.api.invokeUrl).not.toBe(harness.api.url);
  });

  it('runs a RequestResponse invocation and answers 200 with the result as JSON', async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: payload({ action: 'echo', n: 1 }) }));
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    const result = parsed(output) as { event: unknown; requestId: string; functionName: string; arn: string };
    expect(result.event).toEqual({ action: 'echo', n: 1 });
    expect(result.functionName).toBe('invoked');
    expect(result.arn).toBe('arn:aws:lambda:us-east-1:123456789012:function:invoked');
    expect(output.$metadata.requestId).toBe(result.requestId);
  });

  it('returns a structured result with a large text body as the function returned it', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'invoked', Payload: payload({ action: 'large-text', lines: 5000 }) }),
    );
    expect(Buffer.from(output.Payload ?? []).toString('utf8')).toBe(
      JSON.stringify({ statusCode: 200, body: 'ünïcode line 🙂\n'.repeat(5000), isBase64Encoded: false }),
    );
  });

  it('accepts the name as an ARN, a partial ARN, or with the $LATEST qualifier', async () => {
    for (const name of [
      'arn:aws:lambda:us-east-1:123456789012:function:invoked',
      'arn:aws:lambda:eu-west-3:123456789012:function:invoked:$LATEST',
      '123456789012:function:invoked',
      'invoked:$LATEST',
    ]) {
      const output = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: payload({ action: 'string' }) }));
      expect(parsed(output)).toBe('just a string');
    }
    const qualified = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', Qualifier: '$LATEST', Payload: payload({}) }));
    expect(qualified.StatusCode).toBe(200);
  });

  it('passes an empty object when there is no payload', async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'invoked' }));
    expect(parsed(output)).toEqual({ received: {} });
  });

  it("gives the access point's user a home directory, so the AWS SDK can start", async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: payload({ action: 'home' }) }));
    expect(output.FunctionError).toBeUndefined();
    const { home, uid } = parsed(output) as { home: string; uid: number };
    if (isRoot) expect({ home, uid }).toEqual({ home: SANDBOX_HOME, uid: 1001 });
    else expect(home).not.toBe('');
  });

  it("returns the end of the invocation's log, base64, with LogType Tail", async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', LogType: 'Tail', Payload: payload({ action: 'log' }) }));
    const log = Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
    const requestId = output.$metadata.requestId ?? '';
    expect(log).toMatch(new RegExp(`^START RequestId: ${requestId} Version: \\$LATEST\n`));
    expect(log).toContain(`\t${requestId}\tINFO\thello from the tail\n`);
    expect(log).toContain('written around console\n');
    expect(log).toMatch(new RegExp(`END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\tDuration: [\\d.]+ ms`));
    const untailed = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: payload({ action: 'log' }) }));
    expect(untailed.LogResult).toBeUndefined();
  });

  it('serves routed functions too', async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'routed', Payload: payload({ action: 'string' }) }));
    expect(parsed(output)).toBe('just a string');
  });

  it("answers a function error with 200, X-Amz-Function-Error: Unhandled and Lambda's error payload", async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: payload({ action: 'throw' }) }));
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    const error = parsed(output) as { errorType: string; errorMessage: string; trace: string[] };
    expect(error.errorType).toBe('TypeError');
    expect(error.errorMessage).toBe('bad input: no such thing');
    expect(error.trace[0]).toBe('TypeError: bad input: no such thing');
    expect(error.trace.some((line) => line.includes('invoke.mjs'))).toBe(true);
    expect(harness.lines.some((line) => line.includes('Invoke Error') && line.includes('bad input'))).toBe(true);
  });

  it('reports a timeout as a Sandbox.Timedout function error', async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: payload({ action: 'sleep', ms: 5000 }) }));
    expect(output.FunctionError).toBe('Unhandled');
    const error = parsed(output) as { errorType: string; errorMessage: string };
    expect(error.errorType).toBe('Sandbox.Timedout');
    expect(error.errorMessage).toMatch(/^RequestId: \S+ Error: Task timed out after 2\.00 seconds$/);
  });

  it('answers an Event invocation 202 at once and runs it in the background', async () => {
    const name = `event-${Date.now()}`;
    const output = await lambda.send(
      new InvokeCommand({
        FunctionName: 'invoked',
        InvocationType: 'Event',
        Payload: payload({ action: 'record', name, after: `${name}.go` }),
      }),
    );
    // Answered while the function still waits for the go-ahead.
    expect(output.StatusCode).toBe(202);
    expect(Buffer.from(output.Payload ?? new Uint8Array()).length).toBe(0);
    const file = join(harness.api.efsRoot, 'data', name);
    expect(existsSync(file)).toBe(false);
    writeFileSync(join(harness.api.efsRoot, 'data', `${name}.go`), '');
    await eventually(() => existsSync(file));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('requestId');
  });

  it('logs a failed Event invocation', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'invoked', InvocationType: 'Event', Payload: payload({ action: 'throw' }) }),
    );
    expect(output.StatusCode).toBe(202);
    await eventually(() => harness.lines.some((line) => /invoked: Event invocation \S+ failed: TypeError: bad input/.test(line)));
  });

  it('answers DryRun 204 without running anything', async () => {
    const before = harness.api.environmentPids('single').length;
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'single', InvocationType: 'DryRun', Payload: payload({}) }));
    expect(output.StatusCode).toBe(204);
    expect(harness.api.environmentPids('single').length).toBe(before);
  });

  it('answers an unknown function 404 ResourceNotFoundException with its ARN', async () => {
    const error = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'no-such-function', Payload: payload({}) })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.$metadata?.httpStatusCode).toBe(404);
    expect(error.message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function');
  });

  it('answers a version or alias other than $LATEST 404 (none exist locally)', async () => {
    const error = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'invoked', Qualifier: 'live', Payload: payload({}) })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:invoked:live');
  });

  it('refuses a payload over 6 MB with 413 before running anything', async () => {
    const big = payload({ action: 'echo', data: 'x'.repeat(PLATFORM_LIMITS.invokePayloadMaxBytes) });
    const error = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: big })));
    expect(error.$metadata?.httpStatusCode).toBe(413);
    expect(error.name).toBe('RequestEntityTooLargeException');
    expect(error.message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
  });

  it('refuses an Event payload over 1 MB with 413', async () => {
    const big = payload({ data: 'x'.repeat(PLATFORM_LIMITS.asyncInvokePayloadMaxBytes) });
    const error = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'invoked', InvocationType: 'Event', Payload: big })));
    expect(error.$metadata?.httpStatusCode).toBe(413);
    expect(error.message).toMatch(/byte payload is too large for the Event invocation type \(limit 1048576 bytes\)/);
  });

  it('refuses a payload that is not JSON with 400 InvalidRequestContentException', async () => {
    const error = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'invoked', Payload: Buffer.from('{not json') })));
    expect(error).toBeInstanceOf(InvalidRequestContentException);
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/^Could not parse request body into json: /);
  });

  it('throttles past the reserved concurrency with 429 TooManyRequestsException', async () => {
    const busy = lambda.send(
      new InvokeCommand({ FunctionName: 'single', Payload: payload({ action: 'hold', name: 'throttle', ms: 1500 }) }),
    );
    await eventually(() => existsSync(join(harness.api.efsRoot, 'data', 'throttle.started')));
    const error = await rejection(lambda.send(new InvokeCommand({ FunctionName: 'single', Payload: payload({ action: 'string' }) })));
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect((error as TooManyRequestsException).Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(error.$metadata?.httpStatusCode).toBe(429);
    expect(parsed(await busy)).toEqual({ held: 1500 });
  });

  it('keeps a throttled Event invocation until an environment is free', async () => {
    const name = `queued-${Date.now()}`;
    const busy = lambda.send(
      new InvokeCommand({ FunctionName: 'single', Payload: payload({ action: 'hold', name: `${name}-busy`, ms: 800 }) }),
    );
    await eventually(() => existsSync(join(harness.api.efsRoot, 'data', `${name}-busy.started`)));
    const queued = await lambda.send(
      new InvokeCommand({ FunctionName: 'single', InvocationType: 'Event', Payload: payload({ action: 'record', name }) }),
    );
    expect(queued.StatusCode).toBe(202);
    await busy;
    await eventually(() => existsSync(join(harness.api.efsRoot, 'data', name)));
  });

  it('answers anything but Invoke 404, naming what it serves', async () => {
    const response = await fetch(`${harness.api.invokeUrl}/2015-03-31/functions/`, { method: 'GET' });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.text()).toMatch(/serves only Invoke/);
  });

  it('says so when a function has no routes and there is no Invoke API', async () => {
    const alone = await startHarness({ functions: [fixtureFunction({ name: 'unreachable', entry: INVOKE, routes: [] })] });
    try {
      expect(alone.api.invokeUrl).toBeUndefined();
      expect(alone.lines.join('\n')).toContain(
        'unreachable: no routes and no Invoke API (invokePort, --invoke-port): nothing can invoke it.',
      );
    } finally {
      await alone.close();
    }
  });

  it('does not route a function without routes on the HTTP API', async () => {
    const response = await fetch(`${harness.api.url}/invoked`);
    expect(response.status).toBe(404);
  });
});
