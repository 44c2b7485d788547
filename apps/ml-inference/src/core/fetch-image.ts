// Fetching an image URL without becoming a proxy into the VPC (SSRF): only http and https; the
// host is resolved once per hop, every address it resolves to is checked, and the connection goes
// to the address that was checked (no second DNS lookup, so no DNS rebinding); redirects are
// followed by hand, at most a few, each hop checked again; one deadline covers DNS, connect,
// redirects and body; the body is capped while it streams. Whether the bytes are an image is
// decided by the caller from the content (decode-image.ts), not from Content-Type.
import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

import {
  FetchFailedError,
  FetchTimeoutError,
  ForbiddenAddressError,
  HostNotAllowedError,
  ImageTooLargeError,
  InvalidUrlError,
  SelfFetchError,
  TooManyRedirectsError,
  systemErrorCode,
} from '../errors.js';
import { METADATA_HOSTS, type AddressCheck } from './address-policy.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (injectable: tests stub DNS). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

const systemResolver: Resolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

export interface FetchPolicy {
  /** Refusal reason for an address, or undefined when it may be connected to. */
  readonly checkAddress: AddressCheck;
  /** Exact hosts or `*.suffix` wildcards; empty: any host. */
  readonly allowedHosts: readonly string[];
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
  /** @default the system resolver (getaddrinfo) */
  readonly resolve?: Resolver;
  /** @default '@lambda-efs/ml-inference' */
  readonly userAgent?: string;
  /** Whether a URL is the function's own API (checked on the URL and on every redirect). @default never */
  readonly isOwnApi?: (url: URL) => boolean;
  /** Headers sent on every hop (the hop header that bounds nesting). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The only ports a URL (or a redirect) may use; empty or omitted: any. Deployed, the functions'
   * network lets out 80 and 443 only: another port would time out instead of failing clearly.
   */
  readonly allowedPorts?: readonly number[];
}

export interface FetchedImage {
  readonly bytes: Buffer;
  /** The URL the bytes came from, after redirects. */
  readonly url: string;
  readonly address: string;
  readonly redirects: number;
}

const MAX_URL_LENGTH = 2048;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Parses and checks an image URL: http or https, a host, no credentials, not too long. */
export function parseImageUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH)
    throw new InvalidUrlError(
      `The url parameter is longer than ${MAX_URL_LENGTH} characters. Use a shorter URL, or upload the image with POST.`,
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new InvalidUrlError(
      `The url parameter "${truncate(raw)}" is not an absolute URL. Pass one like https://example.com/bird.jpg (URL-encoded in the query string).`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidUrlError(
      `Only http and https URLs can be fetched, not ${url.protocol.replace(/:$/, '')}. Pass an http(s) URL, or upload the image with POST.`,
    );
  }
  if (url.username !== '' || url.password !== '')
    throw new InvalidUrlError('URLs with credentials (user:password@host) are not fetched. Use a URL without them.');
  if (url.hostname === '') throw new InvalidUrlError('The URL has no host. Pass one like https://example.com/bird.jpg.');
  return url;
}

/** The host as compared and resolved: lower case, no trailing dot, IPv6 without brackets. */
function hostOf(url: URL): string {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function hostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true;
  return allowedHosts.some((pattern) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern,
  );
}

/**
 * Fetches an image URL under the policy. Throws typed errors: InvalidUrlError (400),
 * HostNotAllowedError and ForbiddenAddressError (403), FetchFailedError, FetchTimeoutError and
 * TooManyRedirectsError (422), ImageTooLargeError (413).
 */
export async function fetchImage(rawUrl: string, policy: FetchPolicy): Promise<FetchedImage> {
  let url = parseImageUrl(rawUrl);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      const address = await checkedAddress(url, policy, controller.signal);
      checkPort(url, redirects, policy.allowedPorts ?? []);
      const response = await send(url, address, policy, controller.signal);
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(response.statusCode ?? 0) && typeof location === 'string') {
        response.destroy();
        if (redirects >= policy.maxRedirects) throw new TooManyRedirectsError(policy.maxRedirects);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (error) {
          throw new FetchFailedError(`The image URL redirected to an invalid location "${truncate(location)}".`, { cause: error });
        }
        url = parseImageUrl(next.href);
        continue;
      }
      const status = response.statusCode ?? 0;
      if (status === 508) {
        // Another classifier (a different spelling of this API's host) refused our hop header.
        response.destroy();
        throw new SelfFetchError(
          `The image URL ${truncate(url.href)} leads to a classifier of this system (it answered 508 Loop Detected): it does not fetch its own endpoints. ` +
            'Use the image’s own URL, or upload the image with POST.',
        );
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw new FetchFailedError(
          `The image URL answered ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}, not an image. Check the URL.`,
        );
      }
      const bytes = await readCapped(response, policy.maxBytes, url, controller.signal);
      return { bytes, url: url.href, address: address.address, redirects };
    }
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof ImageTooLargeError))
      throw new FetchTimeoutError(policy.timeoutMs, truncate(rawUrl));
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Refuses a URL whose port the deployment cannot reach (InvalidUrlError, 400). */
function checkPort(url: URL, redirects: number, allowedPorts: readonly number[]): void {
  if (allowedPorts.length === 0) return;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (allowedPorts.includes(port)) return;
  throw new InvalidUrlError(
    `The image URL${redirects > 0 ? ` redirects to ${truncate(url.href)}, which` : ''} uses port ${port}, but this deployment can only reach ` +
      `port${allowedPorts.length === 1 ? '' : 's'} ${allowedPorts.join(' and ')}. Use a URL on ${allowedPorts.join(' or ')}, or upload the image with POST.`,
  );
}

/** Resolves the URL's host and returns the address to connect to, after checking every address. */
async function checkedAddress(url: URL, policy: FetchPolicy, signal: AbortSignal): Promise<ResolvedAddress> {
  const host = hostOf(url);
  if (policy.isOwnApi?.(url) === true) {
    throw new SelfFetchError(
      `The image URL leads to this API itself (${truncate(url.href)}): the classifier does not fetch its own endpoints, which would make it call itself. ` +
        'Use the image’s own URL, or upload the image with POST.',
    );
  }
  if (METADATA_HOSTS.has(host)) throw new ForbiddenAddressError(host, host, 'cloud metadata service');
  if (!hostAllowed(host, policy.allowedHosts)) throw new HostNotAllowedError(host);
  let addresses: readonly ResolvedAddress[];
  const family = isIP(host);
  if (family !== 0) {
    // The URL parser already turned 2130706433, 0x7f.1 and friends into dotted quads.
    addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await abortable((policy.resolve ?? systemResolver)(host), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw new FetchFailedError(`The host ${host} could not be resolved (${systemErrorCode(error) ?? 'DNS error'}). Check the URL.`, {
        cause: error,
      });
    }
  }
  if (addresses.length === 0) throw new FetchFailedError(`The host ${host} has no addresses. Check the URL.`);
  // Refuse when any address is refused: a host that also resolves to a private address is not
  // trusted with the others either.
  for (const candidate of addresses) {
    const reason = policy.checkAddress(candidate.address);
    if (reason !== undefined) throw new ForbiddenAddressError(host, candidate.address, reason);
  }
  const first = addresses[0];
  if (first === undefined) throw new FetchFailedError(`The host ${host} has no addresses. Check the URL.`);
  return first;
}

function send(url: URL, address: ResolvedAddress, policy: FetchPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  const https = url.protocol === 'https:';
  const host = hostOf(url);
  return new Promise((resolve, reject) => {
    const request = (https ? httpsRequest : httpRequest)({
      // Connect to the checked address itself; the name goes only into Host and TLS (SNI and
      // certificate verification), so no second resolution can point elsewhere.
      host: address.address,
      family: address.family,
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: {
        host: url.host,
        'user-agent': policy.userAgent ?? '@lambda-efs/ml-inference',
        accept: 'image/avif,image/webp,image/png,image/jpeg,image/gif,image/tiff,*/*;q=0.1',
        'accept-encoding': 'identity',
        ...policy.headers,
      },
      ...(https && isIP(host) === 0 ? { servername: host } : {}),
      agent: false,
      signal,
    });
    request.once('response', resolve);
    request.once('error', (error) => reject(signal.aborted ? error : connectionError(url, error)));
    request.end();
  });
}

function connectionError(url: URL, error: unknown): FetchFailedError {
  const code = systemErrorCode(error);
  const host = hostOf(url);
  const what =
    code === 'ECONNREFUSED'
      ? `${host} refused the connection`
      : code === 'ECONNRESET'
        ? `${host} closed the connection`
        : code !== undefined && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)
          ? `the TLS connection to ${host} failed (${code})`
          : `the connection to ${host} failed (${code ?? (error instanceof Error ? error.message : String(error))})`;
  return new FetchFailedError(`The image could not be fetched: ${what}. Check the URL.`, { cause: error });
}

async function readCapped(response: IncomingMessage, maxBytes: number, url: URL, signal: AbortSignal): Promise<Buffer> {
  const what = `The image at ${truncate(url.href)}`;
  const announced = Number(response.headers['content-length']);
  if (Number.isFinite(announced) && announced > maxBytes) {
    response.destroy();
    throw new ImageTooLargeError(what, maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response) {
      const buffer = chunk as Buffer;
      total += buffer.length;
      if (total > maxBytes) {
        response.destroy();
        throw new ImageTooLargeError(what, maxBytes);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof ImageTooLargeError || signal.aborted) throw error;
    throw new FetchFailedError(
      `The image at ${truncate(url.href)} could not be read completely (${systemErrorCode(error) ?? 'connection error'}).`,
      { cause: error },
    );
  }
  if (!response.complete) throw new FetchFailedError(`The image at ${truncate(url.href)} was cut off before its end. Try again.`);
  return Buffer.concat(chunks, total);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function truncate(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
