import { describe, expect, it } from 'vitest';

import { excerpt, newWallId, normalizeBaseUrl, quote, runSmoke, UsageError } from '../../src/index.js';

describe('newWallId', () => {
  it('is smoke-<UTC time>-<random>, within the wall-id rule, and new each time', () => {
    const id = newWallId(new Date('2026-12-03T21:05:09.123Z'));
    expect(id).toMatch(/^smoke-20261203T210509Z-[0-9a-f]{6}$/);
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const ids = new Set(Array.from({ length: 50 }, () => newWallId(new Date(0))));
    expect(ids.size).toBe(50);
  });
});

describe('normalizeBaseUrl', () => {
  it('drops trailing slashes and keeps a stage path', () => {
    expect(normalizeBaseUrl('https://abc.execute-api.eu-west-1.amazonaws.com/')).toBe('https://abc.execute-api.eu-west-1.amazonaws.com');
    expect(normalizeBaseUrl('https://abc.execute-api.eu-west-1.amazonaws.com/prod//')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
    );
    expect(normalizeBaseUrl('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
  });

  it.each([
    ['abc.execute-api.amazonaws.com', /is not a URL: pass the API's base URL/],
    ['ftp://host', /must be http or https, not ftp/],
    ['https://host/?x=1', /has a query, fragment or credentials/],
    ['https://user:pw@host', /has a query, fragment or credentials/],
  ])('refuses %s', (url, message) => {
    expect(() => normalizeBaseUrl(url)).toThrow(UsageError);
    expect(() => normalizeBaseUrl(url)).toThrow(message);
  });
});

describe('runSmoke options', () => {
  it('refuses to run without an image unless the classification is skipped', async () => {
    await expect(runSmoke({ baseUrl: 'http://127.0.0.1:9' })).rejects.toThrow(
      /No image to classify: pass one \(--image <file>\), or --skip-ml/,
    );
  });

  it('refuses a wall id outside the rule (it would hit the shared wall or a 400)', async () => {
    await expect(runSmoke({ baseUrl: 'http://127.0.0.1:9', skipMl: true, wallId: '../content' })).rejects.toThrow(
      /breaks the wall-id rule/,
    );
    await expect(runSmoke({ baseUrl: 'http://127.0.0.1:9', skipMl: true, wallId: '' })).rejects.toThrow(/breaks the wall-id rule/);
  });
});

describe('quote and excerpt', () => {
  it('shows newlines and control characters as escapes, on one line', () => {
    expect(quote('Hello from EFS!\n')).toBe('"Hello from EFS!\\n"');
    expect(quote('a\tb\r\u0000')).toBe('"a\\tb\\r\\u0000"');
    expect(quote('{"a":"b"}')).toBe('"{"a":"b"}"');
  });

  it('cuts long bodies and gives their size', () => {
    expect(excerpt('')).toBe('(empty body)');
    expect(excerpt('x'.repeat(10), 4)).toBe('"xxxx"… (10 bytes)');
    expect(excerpt('é'.repeat(5), 2)).toBe('"éé"… (10 bytes)');
  });
});
