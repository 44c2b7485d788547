// AWS Signature Version 4 for one request, with Node's crypto: what an HTTP API route with
// `AWS_IAM` authorization checks. Small on purpose (no SDK): header signing only, the payload
// hashed, tested against AWS's published SigV4 test suite (tests/unit/sigv4.test.ts).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
import { createHash, createHmac } from 'node:crypto';

/** AWS credentials: long-term keys, or temporary ones with their session token. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials only (assumed roles, SSO): sent as `X-Amz-Security-Token`. */
  readonly sessionToken?: string;
}

/** The request to sign. */
export interface SignableRequest {
  readonly method: string;
  /** The full URL, which `Host`, the path and the query are taken from. */
  readonly url: string;
  /** Headers the request will carry; every one is signed. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface SigningParameters {
  readonly credentials: AwsCredentials;
  /** @example 'us-east-1' */
  readonly region: string;
  /** @example 'execute-api' */
  readonly service: string;
  /** The signing time. @default now */
  readonly now?: Date;
}

/** What signing produced. */
export interface SignedRequest {
  /** The request's headers plus `Authorization`, `X-Amz-Date` and, with a session token, `X-Amz-Security-Token`. */
  readonly headers: Record<string, string>;
  /** The hex signature (the end of `Authorization`). */
  readonly signature: string;
  /** For debugging a refused signature: what was signed. */
  readonly canonicalRequest: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Signs `request` with SigV4 (the `Authorization` header form).
 * @example
 * const { headers } = signRequest({ method: 'DELETE', url }, { credentials, region: 'us-east-1', service: 'execute-api' });
 * await fetch(url, { method: 'DELETE', headers });
 */
export function signRequest(request: SignableRequest, parameters: SigningParameters): SignedRequest {
  const url = new URL(request.url);
  const amzDate = (parameters.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const date = amzDate.slice(0, 8);
  const { credentials, region, service } = parameters;

  const headers: Record<string, string> = { ...request.headers, 'X-Amz-Date': amzDate };
  if (credentials.sessionToken !== undefined && credentials.sessionToken !== '') headers['X-Amz-Security-Token'] = credentials.sessionToken;
  // Host is signed but sent by fetch itself (from the URL): the same value.
  const signed = new Map<string, string>([['host', url.host]]);
  for (const [name, value] of Object.entries(headers)) signed.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  const names = [...signed.keys()].sort();
  const signedHeaders = names.join(';');

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(url.pathname),
    canonicalQuery(url.searchParams),
    ...names.map((name) => `${name}:${signed.get(name) ?? ''}`),
    '',
    signedHeaders,
    sha256Hex(request.body ?? ''),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');

  headers['Authorization'] =
    `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, signature, canonicalRequest };
}

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Z a-z 0-9 - _ . ~`. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The path, each segment encoded again (services other than S3 sign the encoded path encoded once
 * more; `URL.pathname` is already encoded once).
 */
function canonicalPath(pathname: string): string {
  if (pathname === '') return '/';
  return pathname
    .split('/')
    .map((segment) => encode(segment))
    .join('/');
}

/** `b=2&a=1` → `a=1&b=2`: sorted by name then value, each encoded. */
function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
