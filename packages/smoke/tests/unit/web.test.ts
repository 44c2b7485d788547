import { describe, expect, it } from 'vitest';

import { checkCsp, judgePage, judgeScript, type Exchange } from '../../src/index.js';

type Answer = Extract<Exchange, { kind: 'answer' }>;

// The web function's headers (apps/web/src/site.ts), as a deployed stack answers them.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'; require-trusted-types-for 'script'; trusted-types 'none'";
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};
const PAGE =
  '<!doctype html><link rel="stylesheet" href="assets/app.0123abcd.css"><script type="module" src="assets/app.4e1867f8.js"></script>';
const SCRIPT_HEADERS = {
  'content-type': 'text/javascript; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'cache-control': 'public, max-age=31536000, immutable',
};

function answer(status: number, headers: Record<string, string>, body: string): Answer {
  return { kind: 'answer', status, headers: new Headers(headers), body, durationMs: 1 };
}

describe('judgePage', () => {
  it("passes the web function's page and finds its hashed script, below a stage path too", () => {
    expect(judgePage(answer(200, PAGE_HEADERS, PAGE), 'http://127.0.0.1:3000')).toEqual({
      problem: null,
      note: 'script /assets/app.4e1867f8.js',
      scriptPath: '/assets/app.4e1867f8.js',
    });
    expect(judgePage(answer(200, PAGE_HEADERS, PAGE), 'https://abc.execute-api.eu-west-1.amazonaws.com/prod').scriptPath).toBe(
      '/assets/app.4e1867f8.js',
    );
    const absolute = PAGE.replace('"assets/app.4e1867f8.js"', '/prod/assets/app.4e1867f8.js');
    expect(judgePage(answer(200, PAGE_HEADERS, absolute), 'https://abc.execute-api.eu-west-1.amazonaws.com/prod').scriptPath).toBe(
      '/assets/app.4e1867f8.js',
    );
  });

  it.each([
    ['a 404', 404, {}, PAGE, /^status 404, not 200$/],
    ['JSON', 200, { 'content-type': 'application/json' }, PAGE, /^Content-Type "application\/json", not text\/html$/],
    ['no CSP', 200, { 'content-security-policy': null }, PAGE, /^no Content-Security-Policy header/],
    ['no nosniff', 200, { 'x-content-type-options': null }, PAGE, /^X-Content-Type-Options \(absent\), not nosniff$/],
    ['a cached page', 200, { 'cache-control': 'max-age=3600' }, PAGE, /^Cache-Control "max-age=3600" lacks no-cache/],
    ['no script', 200, {}, '<!doctype html><p>hi', /^the page references no script under assets\/ of the same API \(<script src>: none\)$/],
    [
      'a foreign script',
      200,
      {},
      '<script src="https://cdn.example.com/assets/app.4e1867f8.js"></script>',
      /no script under assets\/ .*"https:\/\/cdn\.example\.com/,
    ],
    [
      'an unhashed script',
      200,
      {},
      '<script src="assets/app.js"></script>',
      /^the page's script \/assets\/app\.js has no content hash in its name/,
    ],
  ])('fails %s, saying what is wrong', (_name, status, changes: Record<string, string | null>, body, problem) => {
    // null: the header is absent.
    const all = Object.fromEntries(
      Object.entries({ ...PAGE_HEADERS, ...changes }).filter((entry): entry is [string, string] => entry[1] !== null),
    );
    const verdict = judgePage(answer(status, all, body), 'http://127.0.0.1:3000');
    expect(verdict.problem).toMatch(problem);
    expect(verdict.scriptPath).toBeUndefined();
  });
});

describe('checkCsp', () => {
  it("accepts the web function's policy", () => {
    expect(checkCsp(CSP)).toBeNull();
  });

  it.each([
    [null, /^no Content-Security-Policy header/],
    ["script-src 'self'", /lacks default-src 'self'/],
    ['default-src *', /lacks default-src 'self'/],
    ["default-src 'self' 'unsafe-inline'", /allows inline scripts \(script-src has 'unsafe-inline'\)/],
    ["default-src 'self'; script-src 'self' 'UNSAFE-INLINE'", /allows inline scripts \(script-src has 'unsafe-inline'\)/],
    ["default-src 'self'; script-src-elem 'self' 'unsafe-inline'", /allows inline scripts \(script-src-elem has 'unsafe-inline'\)/],
  ])('refuses %s', (policy, problem) => {
    expect(checkCsp(policy)).toMatch(problem);
  });

  it("lets style-src have 'unsafe-inline' (the step is about scripts) and counts only the first of a repeated directive", () => {
    expect(checkCsp("default-src 'self'; style-src 'self' 'unsafe-inline'")).toBeNull();
    expect(checkCsp("default-src 'self'; script-src 'self'; script-src 'unsafe-inline'")).toBeNull();
  });
});

describe('judgeScript', () => {
  it('passes a hashed module script cached for a year, immutable', () => {
    expect(judgeScript(answer(200, SCRIPT_HEADERS, 'export {};\n'))).toEqual({
      problem: null,
      note: '11 bytes, max-age 31536000 immutable',
    });
    expect(judgeScript(answer(200, { ...SCRIPT_HEADERS, 'content-type': 'application/javascript' }, 'x()')).problem).toBeNull();
  });

  it.each([
    ['a 404', 404, {}, /^status 404, not 200$/],
    ['text/plain', 200, { 'content-type': 'text/plain' }, /^Content-Type "text\/plain", not JavaScript/],
    ['no nosniff', 200, { 'x-content-type-options': 'sniff' }, /^X-Content-Type-Options "sniff", not nosniff$/],
    [
      'no-cache',
      200,
      { 'cache-control': 'no-cache' },
      /^Cache-Control "no-cache" is not long immutable caching \(immutable, max-age ≥ 31536000\)$/,
    ],
    ['a day', 200, { 'cache-control': 'max-age=86400, immutable' }, /is not long immutable caching/],
  ])('fails %s', (_name, status, headers, problem) => {
    expect(judgeScript(answer(status, { ...SCRIPT_HEADERS, ...headers }, 'x()')).problem).toMatch(problem);
  });
});
