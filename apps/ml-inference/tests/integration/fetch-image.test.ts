// SSRF and bad-URL cases of fetchImage, all on loopback: a local server on 127.0.0.1 stands in for
// the internet. With private networks allowed, it is reachable; with them refused, the refusal
// happens before any connection (the server's request log proves it). Where a test needs a
// "public" host, DNS is stubbed and the checker treats exactly 127.0.0.1 as public.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addressCheck, classifyAddress, type AddressCheck } from '../../src/core/address-policy.js';
import { fetchImage, hostAllowed, parseImageUrl, type FetchPolicy, type Resolver } from '../../src/core/fetch-image.js';
import {
  FetchFailedError,
  FetchTimeoutError,
  ForbiddenAddressError,
  HostNotAllowedError,
  ImageTooLargeError,
  InvalidUrlError,
  MlInferenceError,
  TooManyRedirectsError,
} from '../../src/errors.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';
import { solidJpeg } from '../helpers/images.js';

let server: ImageServer;
let jpeg: Buffer;

/** 127.0.0.1 plays a public host; every other address is judged by the real rules. */
const loopbackIsPublic: AddressCheck = (address) => (address === '127.0.0.1' ? undefined : classifyAddress(address));

/** DNS stub: names map to fixed answers; anything else is NXDOMAIN. */
function resolver(table: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (hostname) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

function policy(overrides: Partial<FetchPolicy> = {}): FetchPolicy {
  return {
    checkAddress: addressCheck(true),
    allowedHosts: [],
    timeoutMs: 2_000,
    maxBytes: 1024 * 1024,
    maxRedirects: 3,
    resolve: resolver({}),
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<MlInferenceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MlInferenceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  server = await startImageServer();
  jpeg = await solidJpeg();
  server.file('/red.jpg', jpeg, 'image/jpeg');
  server.route('/redirect', (req, res) => {
    const to = new URL(req.url ?? '/', server.origin).searchParams.get('to') ?? '/red.jpg';
    res.writeHead(302, { location: to }).end();
  });
  server.route('/loop', (_req, res) => res.writeHead(301, { location: '/loop' }).end());
  server.route('/chain', (req, res) => {
    const n = Number(new URL(req.url ?? '/', server.origin).searchParams.get('n') ?? '0');
    res.writeHead(307, { location: n <= 1 ? '/red.jpg' : `/chain?n=${n - 1}` }).end();
  });
  server.route('/slow', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.write(jpeg.subarray(0, 100));
    // Never finishes: the deadline must stop it.
  });
  server.route('/hang', () => {
    // Never answers.
  });
  server.route('/big-announced', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) });
    res.write(Buffer.alloc(1024));
  });
  server.route('/big-streamed', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    const push = (): void => {
      while (sent < 4 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', push);
          return;
        }
      }
      res.end();
    };
    push();
  });
  server.route('/missing', (_req, res) => res.writeHead(404).end('no'));
  server.route('/cut', (req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) });
    res.write(jpeg.subarray(0, 200));
    setTimeout(() => req.socket.destroy(), 20);
  });
});

afterAll(async () => {
  await server.close();
});

describe('fetchImage with private networks allowed (the local runtime)', () => {
  it('fetches an image from the local server', async () => {
    const fetched = await fetchImage(`${server.origin}/red.jpg`, policy());
    expect(fetched.bytes.equals(jpeg)).toBe(true);
    expect(fetched.redirects).toBe(0);
    expect(fetched.address).toBe('127.0.0.1');
  });

  it('follows up to three redirects', async () => {
    const fetched = await fetchImage(`${server.origin}/chain?n=3`, policy());
    expect(fetched.bytes.equals(jpeg)).toBe(true);
    expect(fetched.redirects).toBe(3);
  });

  it('refuses a fourth redirect with 422', async () => {
    const error = await refusal(fetchImage(`${server.origin}/chain?n=4`, policy()));
    expect(error).toBeInstanceOf(TooManyRedirectsError);
    expect(error.status).toBe(422);
    expect(error.message).toBe("The image URL redirected more than 3 times. Use the image's final URL.");
  });

  it('refuses a port the deployment cannot reach with 400, saying which it can (no timeout)', async () => {
    const port = new URL(server.origin).port;
    const error = await refusal(fetchImage(`${server.origin}/red.jpg`, policy({ allowedPorts: [80, 443] })));
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      `The image URL uses port ${port}, but this deployment can only reach ports 80 and 443. Use a URL on 80 or 443, or upload the image with POST.`,
    );
    // The server's own port allowed: fetched as before.
    expect((await fetchImage(`${server.origin}/red.jpg`, policy({ allowedPorts: [Number(port)] }))).bytes.equals(jpeg)).toBe(true);
  });

  it('stops a redirect loop', async () => {
    expect(await refusal(fetchImage(`${server.origin}/loop`, policy()))).toBeInstanceOf(TooManyRedirectsError);
  });

  it('answers 422 naming the status when the URL is not found', async () => {
    const error = await refusal(fetchImage(`${server.origin}/missing`, policy()));
    expect(error).toBeInstanceOf(FetchFailedError);
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/answered 404 Not Found/);
  });

  it('stops a body that never finishes at the timeout', async () => {
    const startedAt = Date.now();
    const error = await refusal(fetchImage(`${server.origin}/slow`, policy({ timeoutMs: 300 })));
    expect(error).toBeInstanceOf(FetchTimeoutError);
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/took longer than 300 ms/);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('stops a server that never answers at the timeout', async () => {
    expect(await refusal(fetchImage(`${server.origin}/hang`, policy({ timeoutMs: 300 })))).toBeInstanceOf(FetchTimeoutError);
  });

  it('refuses an announced body over the cap before reading it', async () => {
    const error = await refusal(fetchImage(`${server.origin}/big-announced`, policy({ maxBytes: 1024 * 1024 })));
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.status).toBe(413);
    expect(error.message).toMatch(/larger than the limit of 1048576 bytes/);
  });

  it('stops a streamed body (no content-length) as soon as it passes the cap', async () => {
    const error = await refusal(fetchImage(`${server.origin}/big-streamed`, policy({ maxBytes: 256 * 1024 })));
    expect(error).toBeInstanceOf(ImageTooLargeError);
  });

  it('reports a body cut off before its end', async () => {
    const error = await refusal(fetchImage(`${server.origin}/cut`, policy()));
    expect(error).toBeInstanceOf(FetchFailedError);
  });

  it('reports a refused connection', async () => {
    const closed = await startImageServer();
    const origin = closed.origin;
    await closed.close();
    const error = await refusal(fetchImage(`${origin}/red.jpg`, policy()));
    expect(error).toBeInstanceOf(FetchFailedError);
    expect(error.message).toMatch(/refused the connection/);
  });

  it('reports a host that does not resolve', async () => {
    const error = await refusal(fetchImage('http://no-such-host.invalid/x.jpg', policy()));
    expect(error).toBeInstanceOf(FetchFailedError);
    expect(error.message).toBe('The host no-such-host.invalid could not be resolved (ENOTFOUND). Check the URL.');
  });
});

describe('fetchImage with private networks refused (AWS)', () => {
  const refused = (): FetchPolicy => policy({ checkAddress: addressCheck(false) });

  it.each([
    ['http://127.0.0.1:1/x.jpg', '127.0.0.1', 'loopback'],
    ['http://2130706433/x.jpg', '127.0.0.1', 'loopback'],
    ['http://0x7f000001/x.jpg', '127.0.0.1', 'loopback'],
    ['http://017700000001/x.jpg', '127.0.0.1', 'loopback'],
    ['http://127.1/x.jpg', '127.0.0.1', 'loopback'],
    ['http://[::1]/x.jpg', '::1', 'loopback'],
    ['http://[::ffff:127.0.0.1]/x.jpg', '::ffff:7f00:1', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'cloud metadata service'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe', 'cloud metadata service'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254', 'cloud metadata service'],
    ['http://169.254.1.1/x.jpg', '169.254.1.1', 'link-local'],
    ['http://10.0.0.5/x.jpg', '10.0.0.5', 'private'],
    ['http://172.16.3.4/x.jpg', '172.16.3.4', 'private'],
    ['http://192.168.1.1/x.jpg', '192.168.1.1', 'private'],
    ['http://100.64.0.1/x.jpg', '100.64.0.1', 'carrier-grade NAT'],
    ['http://[fc00::1]/x.jpg', 'fc00::1', 'unique-local'],
    ['http://[fe80::1]/x.jpg', 'fe80::1', 'link-local'],
    ['http://224.0.0.1/x.jpg', '224.0.0.1', 'multicast'],
    ['http://[ff02::1]/x.jpg', 'ff02::1', 'multicast'],
    ['http://0.0.0.0/x.jpg', '0.0.0.0', 'unspecified'],
    ['http://[::]/x.jpg', '::', 'unspecified'],
  ])('refuses %s with 403 without connecting', async (url, address, reason) => {
    const before = server.requests.length;
    const error = await refusal(fetchImage(url, refused()));
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.status).toBe(403);
    expect(error.code).toBe('EADDRESS');
    expect(error.message).toBe(
      `Refusing to fetch from ${address}: it is ${/^[aeiou]/.test(reason) ? 'an' : 'a'} ${reason} address, and only public internet addresses can be fetched. ` +
        'Use a publicly reachable image URL, or upload the image with POST.',
    );
    expect(server.requests.length).toBe(before);
  });

  it('refuses a host name that resolves to loopback (localhost)', async () => {
    const error = await refusal(
      fetchImage(`http://localhost:${server.port}/red.jpg`, { ...refused(), resolve: resolver({ localhost: ['127.0.0.1', '::1'] }) }),
    );
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.message).toMatch(/^Refusing to fetch from localhost \(127\.0\.0\.1\): it is a loopback address/);
  });

  it('refuses a host when any of its addresses is private', async () => {
    const error = await refusal(
      fetchImage(`http://mixed.example:${server.port}/red.jpg`, {
        ...policy({ checkAddress: loopbackIsPublic }),
        resolve: resolver({ 'mixed.example': ['127.0.0.1', '10.1.1.1'] }),
      }),
    );
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect((error as ForbiddenAddressError).address).toBe('10.1.1.1');
  });

  it('checks every redirect again: a public server redirecting to a private address is refused', async () => {
    const before = server.requests.length;
    const error = await refusal(
      fetchImage(`http://images.example:${server.port}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/iam/')}`, {
        ...policy({ checkAddress: loopbackIsPublic }),
        resolve: resolver({ 'images.example': ['127.0.0.1'] }),
      }),
    );
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.message).toMatch(/169\.254\.169\.254: it is a cloud metadata service address/);
    // Only the first hop reached the (public) server.
    expect(server.requests.slice(before)).toEqual([`/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/iam/')}`]);
  });

  it('checks a redirect to a name that resolves privately', async () => {
    const error = await refusal(
      fetchImage(
        `http://images.example:${server.port}/redirect?to=${encodeURIComponent(`http://internal.example:${server.port}/red.jpg`)}`,
        {
          ...policy({ checkAddress: loopbackIsPublic }),
          resolve: resolver({ 'images.example': ['127.0.0.1'], 'internal.example': ['192.168.10.10'] }),
        },
      ),
    );
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.message).toMatch(/internal\.example \(192\.168\.10\.10\): it is a private address/);
  });

  it('connects to the address it checked: a second DNS answer cannot rebind the connection', async () => {
    const calls: string[] = [];
    let answers = 0;
    const rebinding: Resolver = async (hostname) => {
      calls.push(hostname);
      answers += 1;
      // First answer public (127.0.0.1 plays public), any later one the metadata service.
      return [{ address: answers === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }];
    };
    const fetched = await fetchImage(`http://rebind.example:${server.port}/red.jpg`, {
      ...policy({ checkAddress: loopbackIsPublic }),
      resolve: rebinding,
    });
    expect(fetched.bytes.equals(jpeg)).toBe(true);
    expect(fetched.address).toBe('127.0.0.1');
    expect(calls).toEqual(['rebind.example']);
  });

  it('resolves each redirect hop once, and sends the original host name', async () => {
    const calls: string[] = [];
    const seenHosts: string[] = [];
    server.route('/host', (req, res) => {
      seenHosts.push(req.headers.host ?? '');
      res.writeHead(302, { location: '/red.jpg' }).end();
    });
    const fetched = await fetchImage(`http://a.example:${server.port}/host`, {
      ...policy({ checkAddress: loopbackIsPublic }),
      resolve: resolver({ 'a.example': ['127.0.0.1'] }, calls),
    });
    expect(fetched.redirects).toBe(1);
    expect(calls).toEqual(['a.example', 'a.example']);
    expect(seenHosts).toEqual([`a.example:${server.port}`]);
  });
});

describe('URL and host rules', () => {
  it.each([
    ['file:///etc/passwd', /Only http and https URLs can be fetched, not file/],
    ['ftp://example.com/x.jpg', /not ftp/],
    ['gopher://example.com/', /not gopher/],
    ['data:image/png;base64,AAAA', /not data/],
    ['javascript:alert(1)', /not javascript/],
    ['http://user:secret@example.com/x.jpg', /credentials/],
    ['not a url', /is not an absolute URL/],
    ['/relative/x.jpg', /is not an absolute URL/],
  ])('refuses %s with 400', (url, message) => {
    let error: unknown;
    try {
      parseImageUrl(url);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect((error as InvalidUrlError).status).toBe(400);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a URL longer than 2048 characters', () => {
    expect(() => parseImageUrl(`https://example.com/${'a'.repeat(2048)}`)).toThrow(/longer than 2048 characters/);
  });

  it('matches allowed hosts exactly or by subdomain wildcard', () => {
    const allowed = ['images.example.com', '*.wikimedia.org'];
    expect(hostAllowed('images.example.com', allowed)).toBe(true);
    expect(hostAllowed('upload.wikimedia.org', allowed)).toBe(true);
    expect(hostAllowed('wikimedia.org', allowed)).toBe(false);
    expect(hostAllowed('evilwikimedia.org', allowed)).toBe(false);
    expect(hostAllowed('example.com', allowed)).toBe(false);
    expect(hostAllowed('anything.test', [])).toBe(true);
  });

  it('refuses a host off the allow-list with 403, before resolving it', async () => {
    const calls: string[] = [];
    const error = await refusal(
      fetchImage('https://elsewhere.example/x.jpg', policy({ allowedHosts: ['images.example'], resolve: resolver({}, calls) })),
    );
    expect(error).toBeInstanceOf(HostNotAllowedError);
    expect(error.status).toBe(403);
    expect(error.message).toBe(
      'Images can only be fetched from the allowed hosts, and elsewhere.example is not one of them. Upload the image with POST instead.',
    );
    expect(calls).toEqual([]);
  });

  it('applies the allow-list to redirects', async () => {
    const error = await refusal(
      fetchImage(`http://images.example:${server.port}/redirect?to=${encodeURIComponent(`http://other.example:${server.port}/red.jpg`)}`, {
        ...policy({ checkAddress: loopbackIsPublic, allowedHosts: ['images.example'] }),
        resolve: resolver({ 'images.example': ['127.0.0.1'], 'other.example': ['127.0.0.1'] }),
      }),
    );
    expect(error).toBeInstanceOf(HostNotAllowedError);
  });

  it('refuses a redirect to another scheme', async () => {
    const error = await refusal(fetchImage(`${server.origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`, policy()));
    expect(error).toBeInstanceOf(InvalidUrlError);
  });
});
