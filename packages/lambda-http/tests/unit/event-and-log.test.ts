import { describe, expect, it } from 'vitest';
import { errorFields, httpMethodOf, requestIds } from '../../src/index.js';

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
