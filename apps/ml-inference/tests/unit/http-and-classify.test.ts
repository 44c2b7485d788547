import { describe, expect, it } from 'vitest';

import { softmax, topPredictions } from '../../src/core/classify.js';
import { ImageTooLargeError, InvalidRequestError } from '../../src/errors.js';
import { bodyBytes, jsonResponse, type HttpApiEventV2, type HttpRequest } from '@lambda-efs/lambda-http';

import { parseClassifyRequest, parseTop } from '../../src/http.js';
import { formatBytes, progressBar } from '../../src/install/progress.js';
import { getEvent, postEvent } from '../helpers/events.js';

const tooLarge = (): Error => new ImageTooLargeError('The uploaded image', 0);
const decodeBody = (event: HttpApiEventV2, maxBytes: number): Buffer => bodyBytes(event, maxBytes, tooLarge);

/** What the adapter hands a route, for parsing alone. */
function asRequest(event: HttpApiEventV2, method: string): HttpRequest {
  return {
    event,
    method,
    requestId: 'test',
    budgetMs: () => undefined,
    bytes: (maxBytes, make) => bodyBytes(event, maxBytes, make),
    text: () => '',
    annotate: () => {},
  };
}

describe('parsing requests', () => {
  it('reads ?url= and ?top= from a GET (API Gateway has decoded the query)', () => {
    expect(parseClassifyRequest(asRequest(getEvent('https://example.com/a b.jpg', { top: '3' }), 'GET'), 1024)).toEqual({
      kind: 'url',
      url: 'https://example.com/a b.jpg',
      top: 3,
    });
  });

  it('defaults top to 5', () => {
    expect(parseTop(undefined)).toBe(5);
  });

  it('refuses a duplicated top (API Gateway joins duplicates with commas)', () => {
    expect(() => parseTop('1,2')).toThrow(InvalidRequestError);
  });

  it('decodes a base64 body', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]);
    expect(decodeBody(postEvent(bytes), 1024).equals(bytes)).toBe(true);
  });

  it('refuses a base64 body over the cap before decoding it', () => {
    const event = postEvent(Buffer.alloc(2000));
    expect(() => decodeBody(event, 1999)).toThrow(ImageTooLargeError);
    expect(decodeBody(event, 2000).length).toBe(2000);
  });

  it('takes a text body (text content types) as UTF-8 bytes', () => {
    expect(decodeBody(postEvent(undefined, { text: '<svg/>' }), 1024).toString()).toBe('<svg/>');
  });

  it('answers JSON that is never cached', () => {
    expect(jsonResponse(200, { a: 1 })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: '{"a":1}',
      isBase64Encoded: false,
    });
  });
});

describe('scores to predictions', () => {
  it('computes a softmax that sums to 1 without overflowing', () => {
    const p = softmax([1000, 1001, 1002]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[2]).toBeCloseTo(Math.exp(2) / (1 + Math.exp(1) + Math.exp(2)), 12);
  });

  it('ranks the top predictions, ties by class order', () => {
    expect(topPredictions([0.1, 0.4, 0.4, 0.1], ['a', 'b', 'c', 'd'], 3)).toEqual([
      { label: 'b', probability: 0.4 },
      { label: 'c', probability: 0.4 },
      { label: 'a', probability: 0.1 },
    ]);
    expect(topPredictions([0.5, 0.5], ['a', 'b'], 20)).toHaveLength(2);
  });
});

describe('progress bar', () => {
  it('redraws in place on a terminal and ends the line', () => {
    let out = '';
    let t = 0;
    const progress = progressBar({ isTTY: true, columns: 100, write: (s: string) => (out += s) }, 'model.onnx', () => t);
    progress(0, 100 * 1024 * 1024);
    t = 50;
    progress(10 * 1024 * 1024, 100 * 1024 * 1024); // under 100 ms since the last draw: skipped
    t = 1000;
    progress(100 * 1024 * 1024, 100 * 1024 * 1024);
    const lines = out.split('\r').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines[1]?.startsWith('model.onnx [')).toBe(true);
    expect(lines[1]?.endsWith('] 100%  100.0 MiB / 100.0 MiB  100.0 MiB/s\u001b[K\n')).toBe(true);
  });

  it('prints a start and an end line when not on a terminal', () => {
    let out = '';
    const progress = progressBar({ isTTY: false, write: (s: string) => (out += s) }, 'model.onnx', () => 0);
    progress(0, 2048);
    progress(1024, 2048);
    progress(2048, 2048);
    expect(out).toBe('model.onnx: copying 2.0 KiB\nmodel.onnx: 2.0 KiB in 0.0 s\n');
    expect(formatBytes(3 * 1024 * 1024 * 1024)).toBe('3.00 GiB');
  });
});
