// One HTTP exchange with the API under test, timed, with its body read whole. A request that gets
// no answer (refused, reset, timed out) is an answer too: the step reports it, it never throws.

/** What the API answered, or why it did not. */
export type Exchange =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly headers: Headers;
      readonly body: string;
      /** From sending the request to the last byte of the body. */
      readonly durationMs: number;
    }
  | {
      readonly kind: 'no-answer';
      /** Why: "no answer within 35000 ms", "connect ECONNREFUSED 127.0.0.1:3000"… */
      readonly reason: string;
      readonly durationMs: number;
    };

/** A request to send. */
export interface RequestSpec {
  readonly method: string;
  /** The full URL. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly timeoutMs: number;
}

/** Sends one request and reads the whole answer, within `timeoutMs` for both. */
export async function exchange(request: RequestSpec): Promise<Exchange> {
  const startedAt = performance.now();
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      redirect: 'manual',
      signal,
      ...(request.headers === undefined ? {} : { headers: request.headers }),
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const body = await response.text();
    return { kind: 'answer', status: response.status, headers: response.headers, body, durationMs: performance.now() - startedAt };
  } catch (error) {
    const durationMs = performance.now() - startedAt;
    if (signal.aborted) return { kind: 'no-answer', reason: `no answer within ${request.timeoutMs} ms`, durationMs };
    return { kind: 'no-answer', reason: `no answer: ${describeFetchError(error)}`, durationMs };
  }
}

/** undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS error…). */
function describeFetchError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.message !== '' && current.message !== 'fetch failed') parts.push(current.message);
    current = current.cause;
  }
  return parts.length === 0 ? String(error) : parts.join(': ');
}

/**
 * Text as one readable line: newlines, tabs and other control characters written as escapes
 * (`\n`), nothing else changed, in double quotes. What a report shows of expected and actual bodies.
 */
export function quote(text: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

/** A body as a short quoted excerpt (see {@link quote}), with its size when cut. */
export function excerpt(body: string, max = 300): string {
  if (body === '') return '(empty body)';
  if (body.length <= max) return quote(body);
  return `${quote(body.slice(0, max))}… (${Buffer.byteLength(body, 'utf8')} bytes)`;
}
