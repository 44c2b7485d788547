import { describe, expect, it } from 'vitest';

import { checkImageBytes, sniffImageFormat } from '../../src/core/decode-image.js';
import { EmptyImageError, SvgRefusedError, UnsupportedMediaTypeError } from '../../src/errors.js';
import { sharp, solid } from '../helpers/images.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const text = (value: string): Buffer => Buffer.from(value, 'latin1');

describe('sniffImageFormat', () => {
  it.each([
    ['jpeg', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10)],
    ['png', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)],
    ['gif', text('GIF89a....')],
    ['gif', text('GIF87a....')],
    ['webp', text('RIFF\x10\x00\x00\x00WEBPVP8 ')],
    ['tiff', bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0)],
    ['tiff', bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8)],
    ['avif', text('\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf')],
    ['avif', text('\x00\x00\x00\x20ftypmif1\x00\x00\x00\x00mif1avifmiafMA1B')],
    ['heic', text('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic')],
    ['svg', text('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['svg', Buffer.from('\uFEFF  <?xml version="1.0"?>\n<!DOCTYPE svg><svg/>', 'utf8')],
    ['bmp', text('BM6\x00\x00\x00')],
    ['pdf', text('%PDF-1.7')],
    [undefined, text('<html><body>not an image</body></html>')],
    [undefined, text('{"json": true}')],
    [undefined, bytes(0, 1, 2, 3)],
  ])('recognises %s from the first bytes', (format, data) => {
    expect(sniffImageFormat(data)).toBe(format);
  });

  it.each(['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const)('recognises what sharp writes as %s', async (format) => {
    const image = await solid(8, 8, [1, 2, 3])[format]().toBuffer();
    expect(sniffImageFormat(image)).toBe(format);
  });
});

describe('checkImageBytes', () => {
  it('refuses 0 bytes with 400', () => {
    expect(() => checkImageBytes(Buffer.alloc(0), 'The uploaded image', false)).toThrow(EmptyImageError);
    try {
      checkImageBytes(Buffer.alloc(0), 'The uploaded image', false);
    } catch (error) {
      expect((error as EmptyImageError).status).toBe(400);
      expect((error as Error).message).toBe('The uploaded image is empty (0 bytes). Send a JPEG, PNG, WebP, GIF, AVIF or TIFF image.');
    }
  });

  it('refuses SVG with 415 unless allowed', async () => {
    const svg = text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="red"/></svg>');
    expect(() => checkImageBytes(svg, 'x', false)).toThrow(SvgRefusedError);
    expect(checkImageBytes(svg, 'x', true)).toBe('svg');
    expect((await sharp(svg).metadata()).format).toBe('svg');
  });

  it('refuses HTML served as an image with 415, judged by content', () => {
    let error: unknown;
    try {
      checkImageBytes(text('<!doctype html><title>404</title>'), 'The image at https://example.com/x.jpg', false);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect((error as UnsupportedMediaTypeError).status).toBe(415);
    expect((error as Error).message).toMatch(
      /^The image at https:\/\/example.com\/x.jpg is not a JPEG, PNG, WebP, GIF, AVIF or TIFF image \(judged by its content/,
    );
  });

  it('names a recognised but refused format', () => {
    expect(() => checkImageBytes(text('BM6\x00\x00\x00'), 'x', false)).toThrow(
      'x is BMP, which is not accepted: convert it to JPEG, PNG, WebP, GIF, AVIF or TIFF and send that.',
    );
    expect(() => checkImageBytes(text('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic'), 'x', false)).toThrow(/HEIC/);
  });
});
