// The smoke session: the post's message-wall session on a fresh wall of its own, the 405, one
// classification by upload, and the web page with its script. Each step is one request (the
// classification may be retried), timed, and judged against the functions' documented contract
// (apps/*/README.md).
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { UsageError } from './errors.js';
import { exchange, excerpt, quote, type Exchange } from './http.js';
import { explainForbidden, type RequestSigner } from './signing.js';
import { judgePage, judgeScript, PAGE_EXPECTED, SCRIPT_EXPECTED } from './web.js';

/** The message wall's answers, byte for byte (apps/message-wall/README.md). */
export const NO_MESSAGE = 'No message yet.';
export const DELETED = 'Messages deleted.';
export const METHOD_UNSUPPORTED = 'Method unsupported.';

/** Statuses after which the classification is tried again: a cold start loading the model, an integration timeout. */
export const RETRIED_STATUSES: readonly number[] = [500, 503];

/** @default per request; above API Gateway's 30 s integration timeout, so its 503 arrives first */
export const DEFAULT_TIMEOUT_MS = 35_000;

/** Waits before the second and third classification attempts. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 3_000];

/** The image to classify. */
export interface SmokeImage {
  readonly bytes: Uint8Array;
  /** Sent as `Content-Type` (the function recognises formats by their bytes; API Gateway base64-encodes non-text bodies). */
  readonly contentType: string;
  /** For the report: the file's name. */
  readonly name: string;
}

/** What the classification must answer. */
export interface ClassExpectation {
  readonly label: string;
  /** Only checked when the answering model has this name (the sample's colour means nothing to a user's model). Any model when omitted. */
  readonly model?: string;
}

/** Options of {@link runSmoke}. */
export interface SmokeOptions {
  /** The API's base URL. @example 'https://abc123.execute-api.eu-west-1.amazonaws.com' */
  readonly baseUrl: string;
  /** Longest wait for each answer. @default DEFAULT_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** The image to upload; required unless `skipMl`. */
  readonly image?: SmokeImage;
  /** Leave the classification out (a stack without ml-inference). @default false */
  readonly skipMl?: boolean;
  /** Signs the DELETE requests (prod's DELETE routes need IAM authorization): see ./signing.ts. @default unsigned */
  readonly signer?: RequestSigner;
  /** Leave the web page's steps out (a stack without the web function). @default false */
  readonly skipWeb?: boolean;
  /** What `bird_class` must be. @default any non-empty label */
  readonly expectClass?: ClassExpectation;
  /** Waits before each retry of the classification after a 500/503. @default DEFAULT_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  /** The wall to use. @default newWallId() */
  readonly wallId?: string;
  /** Progress lines (a retry, a cleanup), as they happen. @default none */
  readonly onProgress?: (line: string) => void;
}

/** One try of a step's request. */
export interface Attempt {
  /** HTTP status, or `null` when no answer came. */
  readonly status: number | null;
  readonly durationMs: number;
}

/** The outcome of one step. */
export interface StepResult {
  /** Stable id. @example 'post-first' */
  readonly id: string;
  /** What the step checks, for people. @example 'POST a message: the wall with it' */
  readonly title: string;
  readonly method: string;
  /** Path after the base URL. @example '/message-wall/smoke-20261203T210500Z-1a2b3c' */
  readonly path: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** The documented answer. @example '200 "No message yet."' */
  readonly expected: string;
  /** Every try, in order (more than one only when the classification was retried). Empty when skipped. */
  readonly attempts: readonly Attempt[];
  /** Failed: what the API answered (status and body excerpt), or that it did not. */
  readonly actual?: string;
  /** Failed: what differs. Passed: a detail worth showing (the label). Skipped: why. */
  readonly note?: string;
}

/** The whole run. */
export interface SmokeReport {
  readonly baseUrl: string;
  readonly wallId: string;
  readonly steps: readonly StepResult[];
  readonly passed: boolean;
  readonly durationMs: number;
  /** Set when a failure left messages on the run's wall and a DELETE was sent to clear them. */
  readonly cleanup?: string;
}

/** A fresh wall id for one run: `smoke-<UTC timestamp>-<6 random hex>`, within the wall-id rule `^[A-Za-z0-9_-]{1,64}$`. */
export function newWallId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `smoke-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The base URL without a trailing slash; only http(s), no query or fragment. @throws {UsageError} */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UsageError(
      `${JSON.stringify(baseUrl)} is not a URL: pass the API's base URL, e.g. https://abc123.execute-api.us-east-1.amazonaws.com (the stack's api_url output).`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `The base URL must be http or https, not ${url.protocol.slice(0, -1)}: pass the API's base URL (the stack's api_url output).`,
    );
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new UsageError(
      `The base URL ${baseUrl} has a query, fragment or credentials: pass only the API's base URL (the stack's api_url output).`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

interface StepSpec {
  readonly id: string;
  readonly title: string;
  readonly method: string;
  readonly path: string;
  readonly expected: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** `null` when the answer is right, else what is wrong with it. */
  readonly judge: (answer: Extract<Exchange, { kind: 'answer' }>) => { problem: string | null; note?: string };
  /** Retry after these statuses, waiting these delays. */
  readonly retry?: { readonly statuses: readonly number[]; readonly delaysMs: readonly number[] };
}

/**
 * Runs the smoke session against `options.baseUrl` and reports every step. Never throws for what
 * the API answers (a wrong answer is a failed step); throws {@link UsageError} for bad options.
 * Wall steps run in order and stop at the first failure (the rest are skipped); the 405, the
 * classification and the web page run regardless, so one report shows everything that is wrong.
 * @example
 * const report = await runSmoke({ baseUrl: api.url, image: { bytes, contentType: 'image/jpeg', name: 'sample.jpg' } });
 * if (!report.passed) process.exitCode = 1;
 */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new UsageError(`The timeout must be a whole number of milliseconds ≥ 1, not ${timeoutMs}.`);
  const skipMl = options.skipMl ?? false;
  if (!skipMl && options.image === undefined)
    throw new UsageError('No image to classify: pass one (--image <file>), or --skip-ml to leave the classification out.');
  const wallId = options.wallId ?? newWallId();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(wallId))
    throw new UsageError(`The wall id ${JSON.stringify(wallId)} breaks the wall-id rule: 1 to 64 of A-Z a-z 0-9 - _.`);
  const progress = options.onProgress ?? ((): void => undefined);
  const { signer } = options;
  const startedAt = performance.now();

  const wall = `/message-wall/${wallId}`;
  const first = `Hello from EFS! (${wallId})`;
  const second = `Hello again :) (${wallId})`;
  const text = { 'content-type': 'text/plain; charset=utf-8' };
  const wallSteps: StepSpec[] = [
    {
      id: 'get-empty',
      title: 'GET a new wall: empty',
      method: 'GET',
      path: wall,
      expected: `200 ${quote(NO_MESSAGE)}`,
      judge: exactly(200, NO_MESSAGE),
    },
    {
      id: 'post-first',
      title: 'POST a message: the wall with it',
      method: 'POST',
      path: wall,
      headers: text,
      body: first,
      expected: `200 ${quote(`${first}\n`)}`,
      judge: exactly(200, `${first}\n`),
    },
    {
      id: 'get-first',
      title: 'GET: the message',
      method: 'GET',
      path: wall,
      expected: `200 ${quote(`${first}\n`)}`,
      judge: exactly(200, `${first}\n`),
    },
    {
      id: 'post-second',
      title: 'POST a second: both, in order',
      method: 'POST',
      path: wall,
      headers: text,
      body: second,
      expected: `200 ${quote(`${first}\n${second}\n`)}`,
      judge: exactly(200, `${first}\n${second}\n`),
    },
    {
      id: 'delete',
      title: 'DELETE the wall',
      method: 'DELETE',
      path: wall,
      expected: `200 ${quote(DELETED)}`,
      judge: explainingForbidden(exactly(200, DELETED), signer !== undefined),
    },
    {
      id: 'get-deleted',
      title: 'GET: empty again',
      method: 'GET',
      path: wall,
      expected: `200 ${quote(NO_MESSAGE)}`,
      judge: exactly(200, NO_MESSAGE),
    },
  ];
  const methodStep: StepSpec = {
    id: 'put-405',
    title: 'PUT: 405 with Allow',
    method: 'PUT',
    path: wall,
    headers: text,
    body: first,
    expected: `405 ${quote(METHOD_UNSUPPORTED)}, Allow: GET, POST, DELETE`,
    judge: methodNotAllowed,
  };

  const steps: StepResult[] = [];
  const run = (spec: StepSpec): Promise<StepResult> => runStep(spec, baseUrl, timeoutMs, progress, signer);

  // The post's session, in order: each step relies on the one before.
  let failed = false;
  let posted = false;
  for (const spec of wallSteps) {
    if (failed) {
      steps.push(skipped(spec, 'an earlier wall step failed'));
      continue;
    }
    const result = await run(spec);
    steps.push(result);
    if (result.outcome === 'failed') failed = true;
    // A POST may have stored its message even when its answer was wrong.
    if (spec.method === 'POST') posted = true;
    if (spec.id === 'delete' && result.outcome === 'passed') posted = false;
  }
  let cleanup: string | undefined;
  if (failed && posted) {
    // Leave no messages behind on the run's wall (its directory stays: walls are never removed).
    const answer = await exchange({
      method: 'DELETE',
      url: `${baseUrl}${wall}`,
      timeoutMs,
      ...headersFor({ method: 'DELETE', path: wall }, baseUrl, signer),
    });
    cleanup = answer.kind === 'answer' ? `DELETE ${wall} answered ${answer.status}` : `DELETE ${wall}: ${answer.reason}`;
    progress(`cleanup: ${cleanup}`);
  }

  steps.push(await run(methodStep));

  if (skipMl) {
    steps.push(skipped(classifyStep(undefined, options.expectClass, []), '--skip-ml'));
  } else if (options.image !== undefined) {
    steps.push(await run(classifyStep(options.image, options.expectClass, options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)));
  }

  // The web page, then the script it names (src/web.ts): the script step needs the page's answer.
  const found: { scriptPath?: string } = {};
  const pageStep: StepSpec = {
    id: 'web-page',
    title: 'GET the web page: CSP, nosniff, no-cache',
    method: 'GET',
    path: '/',
    expected: PAGE_EXPECTED,
    judge: (answer) => {
      const verdict = judgePage(answer, baseUrl);
      if (verdict.scriptPath !== undefined) found.scriptPath = verdict.scriptPath;
      return verdict;
    },
  };
  const scriptStep = (path: string): StepSpec => ({
    id: 'web-script',
    title: 'GET its script: JavaScript, immutable',
    method: 'GET',
    path,
    expected: SCRIPT_EXPECTED,
    judge: judgeScript,
  });
  if (options.skipWeb ?? false) {
    steps.push(skipped(pageStep, '--skip-web'), skipped(scriptStep('/assets/app.<hash>.js'), '--skip-web'));
  } else {
    steps.push(await run(pageStep));
    steps.push(
      found.scriptPath === undefined
        ? skipped(scriptStep('/assets/app.<hash>.js'), 'the page step failed')
        : await run(scriptStep(found.scriptPath)),
    );
  }

  return {
    baseUrl,
    wallId,
    steps,
    passed: steps.every((step) => step.outcome !== 'failed'),
    durationMs: performance.now() - startedAt,
    ...(cleanup === undefined ? {} : { cleanup }),
  };
}

function classifyStep(image: SmokeImage | undefined, expectation: ClassExpectation | undefined, delaysMs: readonly number[]): StepSpec {
  const label =
    expectation === undefined
      ? 'a label'
      : expectation.model === undefined
        ? JSON.stringify(expectation.label)
        : `${JSON.stringify(expectation.label)} (from model ${expectation.model})`;
  return {
    id: 'classify',
    title: `POST an image${image === undefined ? '' : ` (${image.name})`}: its class`,
    method: 'POST',
    path: '/ml-inference',
    ...(image === undefined ? {} : { headers: { 'content-type': image.contentType }, body: image.bytes }),
    expected: `200 JSON with bird_class ${label} and model {name, version}`,
    judge: (answer) => judgeClassification(answer, expectation),
    retry: { statuses: RETRIED_STATUSES, delaysMs },
  };
}

async function runStep(
  spec: StepSpec,
  baseUrl: string,
  timeoutMs: number,
  progress: (line: string) => void,
  signer?: RequestSigner,
): Promise<StepResult> {
  const attempts: Attempt[] = [];
  const delays = spec.retry?.delaysMs ?? [];
  for (;;) {
    const answer = await exchange({
      method: spec.method,
      url: `${baseUrl}${spec.path}`,
      timeoutMs,
      ...headersFor(spec, baseUrl, signer),
      ...(spec.body === undefined ? {} : { body: spec.body }),
    });
    attempts.push({ status: answer.kind === 'answer' ? answer.status : null, durationMs: answer.durationMs });
    const base = { id: spec.id, title: spec.title, method: spec.method, path: spec.path, expected: spec.expected, attempts };
    if (answer.kind === 'no-answer') {
      return { ...base, outcome: 'failed', actual: answer.reason, note: 'no answer' };
    }
    const delay = delays[attempts.length - 1];
    if (spec.retry?.statuses.includes(answer.status) === true && delay !== undefined) {
      progress(
        `${spec.id}: the API answered ${answer.status} ${excerpt(answer.body, 120)} (a cold start?); ` +
          `retrying in ${formatSeconds(delay)} (attempt ${attempts.length + 1} of ${delays.length + 1})`,
      );
      await sleep(delay);
      continue;
    }
    const verdict = spec.judge(answer);
    if (verdict.problem === null) return { ...base, outcome: 'passed', ...(verdict.note === undefined ? {} : { note: verdict.note }) };
    return { ...base, outcome: 'failed', actual: `${answer.status} ${excerpt(answer.body)}`, note: verdict.problem };
  }
}

function skipped(spec: StepSpec, why: string): StepResult {
  return {
    id: spec.id,
    title: spec.title,
    method: spec.method,
    path: spec.path,
    expected: spec.expected,
    outcome: 'skipped',
    attempts: [],
    note: why,
  };
}

type Answer = Extract<Exchange, { kind: 'answer' }>;

function exactly(status: number, body: string): StepSpec['judge'] {
  return (answer: Answer) => {
    if (answer.status !== status) return { problem: `status ${answer.status}, not ${status}` };
    if (answer.body !== body) return { problem: 'the body differs' };
    return { problem: null };
  };
}

function methodNotAllowed(answer: Answer): { problem: string | null } {
  if (answer.status !== 405) return { problem: `status ${answer.status}, not 405` };
  const allow = (answer.headers.get('allow') ?? '').split(',').map((method) => method.trim().toUpperCase());
  const missing = ['GET', 'POST', 'DELETE'].filter((method) => !allow.includes(method));
  if (missing.length > 0)
    return { problem: `the Allow header (${JSON.stringify(answer.headers.get('allow'))}) lacks ${missing.join(', ')}` };
  if (answer.body !== METHOD_UNSUPPORTED) return { problem: 'the body differs' };
  return { problem: null };
}

function judgeClassification(answer: Answer, expectation: ClassExpectation | undefined): { problem: string | null; note?: string } {
  if (answer.status !== 200) return { problem: `status ${answer.status}, not 200` };
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return { problem: 'the body is not JSON' };
  }
  if (typeof body !== 'object' || body === null) return { problem: 'the body is not a JSON object' };
  const { bird_class: label, model, predictions } = body as Record<string, unknown>;
  if (typeof label !== 'string' || label === '') return { problem: 'no bird_class (a non-empty string)' };
  if (typeof model !== 'object' || model === null) return { problem: 'no model {name, version}' };
  const { name, version } = model as Record<string, unknown>;
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || version === '')
    return { problem: 'model lacks a name or a version' };
  const top = Array.isArray(predictions) ? (predictions[0] as { probability?: unknown } | undefined) : undefined;
  const probability = typeof top?.probability === 'number' ? ` ${top.probability.toFixed(2)}` : '';
  const note = `${label}${probability}, model ${name} ${version}`;
  if (expectation !== undefined && (expectation.model === undefined || expectation.model === name) && label !== expectation.label) {
    return { problem: `bird_class ${JSON.stringify(label)}, not ${JSON.stringify(expectation.label)} (model ${name} ${version})`, note };
  }
  return { problem: null, note };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** A request's headers: a DELETE's signed (SigV4) when there is a signer, freshly for each try. */
function headersFor(
  spec: Pick<StepSpec, 'method' | 'path' | 'headers' | 'body'>,
  baseUrl: string,
  signer: RequestSigner | undefined,
): { headers?: Readonly<Record<string, string>> } {
  if (spec.method !== 'DELETE' || signer === undefined) return spec.headers === undefined ? {} : { headers: spec.headers };
  return {
    headers: signer({
      method: spec.method,
      url: `${baseUrl}${spec.path}`,
      ...(spec.headers === undefined ? {} : { headers: spec.headers }),
      ...(spec.body === undefined ? {} : { body: spec.body }),
    }),
  };
}

/** A DELETE's judge that, on a 403, says the route needs IAM authorization and how to sign. */
function explainingForbidden(judge: StepSpec['judge'], signed: boolean): StepSpec['judge'] {
  return (answer) => {
    const forbidden = explainForbidden(answer, signed);
    return forbidden === null ? judge(answer) : { problem: forbidden };
  };
}
