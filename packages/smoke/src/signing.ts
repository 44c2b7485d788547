// Whether and how the smoke test signs its DELETE requests. In prod the wall's DELETE routes need
// IAM authorization (infra: api.deleteAuthorization): a request without a valid SigV4 signature
// gets 403 {"message":"Forbidden"}. Credentials come from the standard environment variables
// (what CI's configure-aws-credentials and `aws configure export-credentials --format env` set).
import { UsageError } from './errors.js';
import type { Exchange } from './http.js';
import { signRequest, type AwsCredentials, type SignableRequest } from './sigv4.js';

/**
 * `auto`: sign when the URL is https (API Gateway; plain http is the local runtime, which has no
 * IAM) and credentials and a region are at hand; `always`: sign, refusing to run without them; `never`.
 */
export const SIGN_MODES = ['auto', 'always', 'never'] as const;
export type SignMode = (typeof SIGN_MODES)[number];

/** The API Gateway service name in SigV4 scopes and IAM actions. */
export const EXECUTE_API = 'execute-api';

/** Adds the signature headers to a request's headers. */
export type RequestSigner = (request: SignableRequest) => Record<string, string>;

/** What {@link createSigner} decided, and a line saying so. */
export interface SigningDecision {
  readonly signer: RequestSigner | null;
  readonly description: string;
}

/** How to provide credentials, for messages. */
export const CREDENTIALS_HOW_TO =
  'set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), ' +
  'e.g. eval "$(aws configure export-credentials --format env)", for a principal allowed execute-api:Invoke ' +
  "(attach the stack's protected_routes_policy_arn output)";

/** The standard environment variables' credentials, or `null` when a key is missing. */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): AwsCredentials | null {
  const accessKeyId = env['AWS_ACCESS_KEY_ID']?.trim() ?? '';
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY']?.trim() ?? '';
  if (accessKeyId === '' || secretAccessKey === '') return null;
  const sessionToken = env['AWS_SESSION_TOKEN']?.trim() ?? '';
  return { accessKeyId, secretAccessKey, ...(sessionToken === '' ? {} : { sessionToken }) };
}

/**
 * The region to sign for: from an API Gateway URL (`<id>.execute-api.<region>.amazonaws.com`), else
 * `AWS_REGION` or `AWS_DEFAULT_REGION` (custom domains, local runs); `null` when none says.
 */
export function signingRegion(baseUrl: string, env: Readonly<Record<string, string | undefined>>): string | null {
  let host = '';
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    // normalizeBaseUrl reports a bad URL.
  }
  const fromUrl = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
  if (fromUrl !== undefined) return fromUrl;
  const fromEnv = (env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? '').trim();
  return fromEnv === '' ? null : fromEnv;
}

/**
 * Decides whether DELETE requests are signed, for `mode`.
 * @throws {UsageError} with `always` when there are no credentials or no region.
 */
export function createSigner(
  mode: SignMode,
  baseUrl: string,
  env: Readonly<Record<string, string | undefined>>,
  now?: () => Date,
): SigningDecision {
  if (mode === 'never') return { signer: null, description: 'DELETE requests are not signed (--sign never)' };
  if (mode === 'auto' && !baseUrl.startsWith('https:'))
    return { signer: null, description: 'DELETE requests are not signed: not https, so not API Gateway (--sign auto)' };
  const credentials = credentialsFromEnv(env);
  const region = signingRegion(baseUrl, env);
  if (credentials === null || region === null) {
    const missing = credentials === null ? 'no AWS credentials in the environment' : `no region (not in ${baseUrl}; set AWS_REGION)`;
    if (mode === 'always')
      throw new UsageError(
        `--sign always, but ${missing}: ${credentials === null ? CREDENTIALS_HOW_TO : "set AWS_REGION to the API's region"}.`,
      );
    return { signer: null, description: `DELETE requests are not signed: ${missing} (--sign auto)` };
  }
  const signer: RequestSigner = (request) =>
    signRequest(request, { credentials, region, service: EXECUTE_API, ...(now === undefined ? {} : { now: now() }) }).headers;
  const kind = credentials.sessionToken === undefined ? 'long-term key' : 'temporary credentials';
  return {
    signer,
    description: `DELETE requests are signed (SigV4, ${EXECUTE_API}, ${region}, ${kind} ${maskKeyId(credentials.accessKeyId)})`,
  };
}

/** `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`: enough to tell keys apart in a log, not the key. */
function maskKeyId(accessKeyId: string): string {
  return accessKeyId.length <= 8 ? '…' : `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;
}

/**
 * What a 403 to a DELETE means, for the step's failure: the route needs IAM authorization and the
 * request was not signed, or the signature or the permission was refused. `null` for other answers.
 */
export function explainForbidden(answer: Exchange, signed: boolean): string | null {
  if (answer.kind !== 'answer' || answer.status !== 403) return null;
  if (!signed) {
    return `status 403: this route needs IAM authorization (SigV4; prod's DELETE does): ${CREDENTIALS_HOW_TO}, and run with --sign auto (the default) or always`;
  }
  return (
    "status 403 to a signed request: the signature or the permission was refused; check that the credentials are current, the region is the API's, " +
    "and the principal may call execute-api:Invoke on this route (the stack's protected_routes_policy_arn output)"
  );
}
