// The signer against AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite:
// get-vanilla, get-vanilla-query-order-key-case, post-vanilla): the documented example key,
// GET / and POST / on example.amazonaws.com at 20150830T123600Z, region us-east-1, service "service".
import { describe, expect, it } from 'vitest';

import { createSigner, credentialsFromEnv, explainForbidden, signingRegion } from '../../src/signing.js';
import { signRequest } from '../../src/sigv4.js';

const SUITE = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  service: 'service',
  now: new Date('2015-08-30T12:36:00Z'),
};
const SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

describe('signRequest against the AWS SigV4 test suite', () => {
  it('signs get-vanilla', () => {
    const signed = signRequest({ method: 'GET', url: 'https://example.amazonaws.com/' }, SUITE);
    expect(signed.canonicalRequest).toBe(
      'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(signed.headers).toEqual({
      'X-Amz-Date': '20150830T123600Z',
      Authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    });
  });

  it('signs get-vanilla-query-order-key-case (the query sorted)', () => {
    const signed = signRequest({ method: 'GET', url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1' }, SUITE);
    expect(signed.signature).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });

  it('signs post-vanilla', () => {
    expect(signRequest({ method: 'POST', url: 'https://example.amazonaws.com/' }, SUITE).signature).toBe(
      '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    );
  });

  it('adds and signs X-Amz-Security-Token for temporary credentials, and signs the given headers', () => {
    const signed = signRequest(
      {
        method: 'DELETE',
        url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/message-wall',
        headers: { 'Content-Type': 'text/plain' },
      },
      { ...SUITE, credentials: { ...SUITE.credentials, sessionToken: 'session-token' }, region: 'eu-west-1', service: 'execute-api' },
    );
    expect(signed.headers['X-Amz-Security-Token']).toBe('session-token');
    expect(signed.headers['Content-Type']).toBe('text/plain');
    expect(signed.headers['Authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    // Another token, another signature: the token is covered.
    const other = signRequest(
      {
        method: 'DELETE',
        url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/message-wall',
        headers: { 'Content-Type': 'text/plain' },
      },
      { ...SUITE, credentials: { ...SUITE.credentials, sessionToken: 'another-token' }, region: 'eu-west-1', service: 'execute-api' },
    );
    expect(other.signature).not.toBe(signed.signature);
  });
});

describe("the smoke test's signing decision", () => {
  const keys = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
  const api = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

  it('reads credentials from the standard variables, the session token when set', () => {
    expect(credentialsFromEnv({})).toBeNull();
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIA' })).toBeNull();
    expect(credentialsFromEnv(keys)).toEqual({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' });
    expect(credentialsFromEnv({ ...keys, AWS_SESSION_TOKEN: 'token' })).toMatchObject({ sessionToken: 'token' });
  });

  it('takes the region from an API Gateway URL, else from AWS_REGION or AWS_DEFAULT_REGION', () => {
    expect(signingRegion(api, { AWS_REGION: 'us-east-1' })).toBe('eu-west-1');
    expect(signingRegion('https://api.example.com', { AWS_REGION: 'us-east-2' })).toBe('us-east-2');
    expect(signingRegion('https://api.example.com', { AWS_DEFAULT_REGION: 'ap-south-1' })).toBe('ap-south-1');
    expect(signingRegion('https://api.example.com', {})).toBeNull();
  });

  it('auto signs for https with credentials, never for plain http (the local runtime) or without credentials', () => {
    const signing = createSigner('auto', api, keys);
    expect(signing.description).toBe('DELETE requests are signed (SigV4, execute-api, eu-west-1, long-term key AKIA…MPLE)');
    expect(signing.signer?.({ method: 'DELETE', url: `${api}/message-wall` })['Authorization']).toMatch(
      /\/eu-west-1\/execute-api\/aws4_request, /,
    );
    expect(createSigner('auto', 'http://127.0.0.1:3000', { ...keys, AWS_REGION: 'us-east-1' }).signer).toBeNull();
    expect(createSigner('auto', api, {}).description).toBe(
      'DELETE requests are not signed: no AWS credentials in the environment (--sign auto)',
    );
    expect(createSigner('never', api, keys).signer).toBeNull();
  });

  it('always refuses to run without credentials or a region, saying how to give them', () => {
    expect(() => createSigner('always', api, {})).toThrow(
      /--sign always, but no AWS credentials in the environment: set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/,
    );
    expect(() => createSigner('always', 'https://api.example.com', keys)).toThrow(/no region .*set AWS_REGION/);
    expect(createSigner('always', 'http://127.0.0.1:3000', { ...keys, AWS_REGION: 'us-east-1' }).signer).not.toBeNull();
  });

  it('explains a 403 to DELETE: IAM authorization needed when unsigned, the permission or signature when signed', () => {
    const forbidden = { kind: 'answer', status: 403, headers: new Headers(), body: '{"message":"Forbidden"}', durationMs: 1 } as const;
    expect(explainForbidden(forbidden, false)).toMatch(
      /^status 403: this route needs IAM authorization \(SigV4.*AWS_ACCESS_KEY_ID.*--sign auto/,
    );
    expect(explainForbidden(forbidden, true)).toMatch(/signed request.*execute-api:Invoke.*protected_routes_policy_arn/);
    expect(explainForbidden({ ...forbidden, status: 200 }, false)).toBeNull();
  });
});
