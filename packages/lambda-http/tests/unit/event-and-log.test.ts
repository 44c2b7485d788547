import { describe, expect, it } from 'vitest';
import { errorFields, FunctionError, httpMethodOf, requestIds, stringField } from '../../src/index.js';

describe('httpMethodOf', () => {
  it('reads the method of a payload 2.0 event', () => {
    expect(httpMethodOf({ requestContext: { http: { method: 'POST' } } })).toBe('POST');
  });

  it.each([undefined, null, 'GET', [], {}, { requestContext: {} }, { requestContext: { http: { method: '' } } }])(
    'answers undefined for %j, which is not an HTTP API event',
    (event) => {
      expect(httpMethodOf(event)).toBeUndefined();
    },
  );
});

describe('requestIds', () => {
  it('prefers Lambda’s request id and keeps API Gateway’s beside it', () => {
    expect(requestIds({ requestContext: { requestId: 'api-1' } }, { awsRequestId: 'lambda-1' })).toEqual({
      requestId: 'lambda-1',
      apiRequestId: 'api-1',
    });
  });

  it('falls back to API Gateway’s id, then to "unknown"', () => {
    expect(requestIds({ requestContext: { requestId: 'api-1' } }, undefined)).toEqual({ requestId: 'api-1', apiRequestId: 'api-1' });
    expect(requestIds(undefined, undefined)).toEqual({ requestId: 'unknown' });
  });
});

describe('errorFields', () => {
  it('logs the name, message, code and cause chain', () => {
    const error = Object.assign(new Error('outer', { cause: new Error('inner') }), { code: 'EOUTER' });
    expect(errorFields(error)).toMatchObject({ name: 'Error', message: 'outer', code: 'EOUTER', cause: { message: 'inner' } });
    expect(errorFields('plain')).toEqual({ value: 'plain' });
  });
});

describe('stringField', () => {
  it('reads a string field, and nothing from anything else', () => {
    expect(stringField({ tail: '5' }, 'tail')).toBe('5');
    expect(stringField({ tail: 5 }, 'tail')).toBeUndefined();
    expect(stringField(undefined, 'tail')).toBeUndefined();
    expect(stringField(['5'], '0')).toBeUndefined();
  });
});

describe('FunctionError', () => {
  it('shows the message of a caller’s mistake (4xx) and hides a failure’s (5xx) unless told otherwise', () => {
    const refused = new FunctionError('EBODY', 400, 'Message is empty.', { headers: { allow: 'GET' } });
    expect([refused.code, refused.status, refused.expose, refused.headers]).toEqual(['EBODY', 400, true, { allow: 'GET' }]);
    const cause = new Error('disk');
    const failed = new FunctionError('EINTERNAL', 500, 'write failed', { cause });
    expect([failed.expose, failed.cause, failed.headers]).toEqual([false, cause, {}]);
    expect(new FunctionError('EBUSY', 503, 'busy: retry', { expose: true }).expose).toBe(true);
  });
});
