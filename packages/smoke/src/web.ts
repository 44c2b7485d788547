// The web page's contract (apps/web/README.md#headers), as the smoke steps judge it: the page
// (`GET /`) is HTML under a strict Content-Security-Policy, never sniffed, revalidated on every
// load; the script it references has a content-hashed name under /assets/ and is cached for good.
import type { Exchange } from './http.js';

type Answer = Extract<Exchange, { kind: 'answer' }>;

/** A judge's verdict: `problem` is null when the answer is right. */
export interface WebVerdict {
  readonly problem: string | null;
  readonly note?: string;
}

/** What the page step expects, for the report. */
export const PAGE_EXPECTED =
  "200 text/html; Content-Security-Policy with default-src 'self' and no 'unsafe-inline' for scripts; X-Content-Type-Options: nosniff; Cache-Control: no-cache; a <script src> under assets/ with a hashed name";

/** What the script step expects, for the report. */
export const SCRIPT_EXPECTED =
  '200 JavaScript (text/javascript); X-Content-Type-Options: nosniff; Cache-Control: immutable, max-age ≥ 31536000';

/** A year in seconds: the shortest max-age a content-hashed asset should get. */
export const IMMUTABLE_MIN_MAX_AGE = 31_536_000;

/** A hashed asset name: `app.4e1867f8.js` (at least 8 hex digits of the content's hash). */
const HASHED_SCRIPT = /\.[0-9a-f]{8,}\.m?js$/;

/** Judges the page's answer; when the page is right, `scriptPath` is its script's path below the base URL. */
export function judgePage(answer: Answer, baseUrl: string): WebVerdict & { readonly scriptPath?: string } {
  if (answer.status !== 200) return { problem: `status ${answer.status}, not 200` };
  const contentType = answer.headers.get('content-type') ?? '';
  if (!/^text\/html\b/i.test(contentType))
    return { problem: `Content-Type ${headerValue(answer.headers.get('content-type'))}, not text/html` };
  const cspProblem = checkCsp(answer.headers.get('content-security-policy'));
  if (cspProblem !== null) return { problem: cspProblem };
  const nosniff = checkNosniff(answer.headers);
  if (nosniff !== null) return { problem: nosniff };
  const cacheControl = directives(answer.headers.get('cache-control'));
  if (!cacheControl.has('no-cache')) {
    return {
      problem: `Cache-Control ${headerValue(answer.headers.get('cache-control'))} lacks no-cache: browsers could keep a page naming assets of an earlier deployment`,
    };
  }
  const script = findScript(answer.body, baseUrl);
  if ('problem' in script) return { problem: script.problem };
  return { problem: null, note: `script ${script.path}`, scriptPath: script.path };
}

/** Judges the script's answer. */
export function judgeScript(answer: Answer): WebVerdict {
  if (answer.status !== 200) return { problem: `status ${answer.status}, not 200` };
  const contentType = answer.headers.get('content-type') ?? '';
  if (!/^(text|application)\/(javascript|ecmascript|x-javascript)\b/i.test(contentType)) {
    return {
      problem: `Content-Type ${headerValue(answer.headers.get('content-type'))}, not JavaScript (text/javascript): a browser refuses to run a module script of another type`,
    };
  }
  const nosniff = checkNosniff(answer.headers);
  if (nosniff !== null) return { problem: nosniff };
  const cacheControl = directives(answer.headers.get('cache-control'));
  const maxAge = Number(cacheControl.get('max-age') ?? Number.NaN);
  if (!cacheControl.has('immutable') || !(maxAge >= IMMUTABLE_MIN_MAX_AGE)) {
    return {
      problem: `Cache-Control ${headerValue(answer.headers.get('cache-control'))} is not long immutable caching (immutable, max-age ≥ ${IMMUTABLE_MIN_MAX_AGE})`,
    };
  }
  if (answer.body.trim() === '') return { problem: 'the script is empty' };
  return { problem: null, note: `${Buffer.byteLength(answer.body, 'utf8')} bytes, max-age ${maxAge} immutable` };
}

/**
 * `null` when the policy allows only the page's own origin by default and no inline script, else
 * what is wrong. Scripts fall back to default-src when no script-src is given (CSP Level 3).
 */
export function checkCsp(header: string | null): string | null {
  if (header === null || header.trim() === '') return 'no Content-Security-Policy header: the page would run any injected script';
  const policy = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    // The first occurrence of a directive counts; later ones are ignored by browsers.
    if (name !== undefined && name !== '' && !policy.has(name.toLowerCase()))
      policy.set(
        name.toLowerCase(),
        values.map((value) => value.toLowerCase()),
      );
  }
  const defaultSrc = policy.get('default-src');
  if (defaultSrc === undefined || !defaultSrc.includes("'self'") || defaultSrc.includes('*')) {
    return `the Content-Security-Policy ${JSON.stringify(header)} lacks default-src 'self' (only the page's own origin)`;
  }
  for (const name of ['script-src', 'script-src-elem', 'script-src-attr']) {
    const values = policy.get(name) ?? (name === 'script-src' ? defaultSrc : undefined);
    if (values?.includes("'unsafe-inline'") === true) {
      return `the Content-Security-Policy ${JSON.stringify(header)} allows inline scripts (${name} has 'unsafe-inline')`;
    }
  }
  return null;
}

function checkNosniff(headers: Headers): string | null {
  const value = headers.get('x-content-type-options');
  return value?.trim().toLowerCase() === 'nosniff' ? null : `X-Content-Type-Options ${headerValue(value)}, not nosniff`;
}

/** Cache-Control directives by lower-case name (value without quotes, or '' when it has none). */
function directives(header: string | null): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', value = ''] = part.split('=', 2).map((piece) => piece.trim());
    if (name !== '') found.set(name.toLowerCase(), value.replace(/^"|"$/g, ''));
  }
  return found;
}

/**
 * The page's script: the first `<script src>` under assets/, resolved against the base URL as a
 * browser resolves it against the page (`<base-url>/`), as a path below the base URL.
 */
function findScript(html: string, baseUrl: string): { path: string } | { problem: string } {
  const page = new URL(`${baseUrl}/`);
  const sources = [...html.matchAll(/<script\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map(
    (match) => match[1] ?? match[2] ?? match[3] ?? '',
  );
  for (const source of sources) {
    let url: URL;
    try {
      url = new URL(source, page);
    } catch {
      continue;
    }
    if (url.origin !== page.origin || !url.pathname.startsWith(`${page.pathname}assets/`)) continue;
    const path = url.pathname.slice(page.pathname.length - 1);
    if (!HASHED_SCRIPT.test(url.pathname)) {
      return {
        problem: `the page's script ${path} has no content hash in its name (app.<hash>.js), so caching it for good would serve stale code`,
      };
    }
    return { path };
  }
  const found = sources.length === 0 ? 'none' : sources.map((source) => JSON.stringify(source)).join(', ');
  return { problem: `the page references no script under assets/ of the same API (<script src>: ${found})` };
}

function headerValue(value: string | null | undefined): string {
  return value === null || value === undefined ? '(absent)' : JSON.stringify(value);
}
