import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  DEFAULT_TIMEOUT_MS,
  ImageError,
  MAX_IMAGE_BYTES,
  parseSmokeArgs,
  readImage,
  SAMPLE_EXPECTATION,
  SAMPLE_IMAGE,
  UsageError,
} from '../../src/index.js';

const cwd = '/somewhere';

describe('parseSmokeArgs', () => {
  it('defaults to text, 35 s, the committed sample and "red" from the demo model', () => {
    expect(parseSmokeArgs(['https://api.example.com'], cwd)).toEqual({
      baseUrl: 'https://api.example.com',
      format: 'text',
      timeoutMs: DEFAULT_TIMEOUT_MS,
      imagePath: SAMPLE_IMAGE,
      skipMl: false,
      sign: 'auto',
      skipWeb: false,
      expectClass: SAMPLE_EXPECTATION,
    });
    expect(parseSmokeArgs(['https://api.example.com', '--skip-web'], cwd)?.skipWeb).toBe(true);
    expect(SAMPLE_EXPECTATION).toEqual({ label: 'red', model: 'demo' });
  });

  it('reads --timeout as milliseconds, or seconds with "s"', () => {
    expect(parseSmokeArgs(['http://x', '--timeout', '1500'], cwd)?.timeoutMs).toBe(1500);
    expect(parseSmokeArgs(['http://x', '--timeout', '1500ms'], cwd)?.timeoutMs).toBe(1500);
    expect(parseSmokeArgs(['http://x', '--timeout=40s'], cwd)?.timeoutMs).toBe(40_000);
  });

  it.each([['0'], ['-1'], ['1.5s'], ['soon'], ['601s']])('refuses --timeout %s', (value) => {
    expect(() => parseSmokeArgs(['http://x', `--timeout=${value}`], cwd)).toThrow(/--timeout is a number of milliseconds from 1 to 600000/);
  });

  it('resolves --image from the directory the command was typed in, with no class expected unless --expect-class', () => {
    expect(parseSmokeArgs(['http://x', '--image', 'bird.png'], cwd)).toMatchObject({
      imagePath: '/somewhere/bird.png',
      expectClass: undefined,
    });
    expect(parseSmokeArgs(['http://x', '--image', '/a/b.jpg', '--expect-class', 'robin'], cwd)).toMatchObject({
      imagePath: '/a/b.jpg',
      expectClass: { label: 'robin' },
    });
  });

  it('returns null for --help', () => {
    expect(parseSmokeArgs(['--help'], cwd)).toBeNull();
    expect(parseSmokeArgs(['-h'], cwd)).toBeNull();
  });

  it.each([
    [[], /Pass exactly one base URL \(got none\)/],
    [['http://a', 'http://b'], /Pass exactly one base URL \(got "http:\/\/a" "http:\/\/b"\)/],
    [['http://a', '--format', 'html'], /--format is text or markdown, not "html"/],
    [['http://a', '--verbose'], /Unknown option '--verbose'/],
    [
      ['http://a', '--skip-ml', '--image', 'x.jpg'],
      /--skip-ml leaves the classification out: drop --image and --expect-class, or --skip-ml/,
    ],
  ])('refuses %j with a usage error that says what to do', (argv, message) => {
    expect(() => parseSmokeArgs(argv, cwd)).toThrow(UsageError);
    expect(() => parseSmokeArgs(argv, cwd)).toThrow(message);
  });
});

describe('readImage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smoke-image-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the committed sample as a JPEG', () => {
    const image = readImage(SAMPLE_IMAGE);
    expect(image.name).toBe('sample.jpg');
    expect(image.contentType).toBe('image/jpeg');
    expect([...image.bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('takes the content type from the extension', () => {
    const path = join(dir, 'bird.PNG');
    writeFileSync(path, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(readImage(path)).toMatchObject({ name: 'bird.PNG', contentType: 'image/png' });
  });

  it('refuses a missing file, an empty one, an unknown extension and one too big for a Lambda event', () => {
    expect(() => readImage(join(dir, 'missing.jpg'))).toThrow(
      /Cannot read the image .*missing\.jpg \(ENOENT\): pass an existing file with --image/,
    );
    writeFileSync(join(dir, 'empty.jpg'), '');
    expect(() => readImage(join(dir, 'empty.jpg'))).toThrow(/is empty: pass a real image with --image/);
    writeFileSync(join(dir, 'bird.bmp'), 'BM');
    expect(() => readImage(join(dir, 'bird.bmp'))).toThrow(ImageError);
    expect(() => readImage(join(dir, 'bird.bmp'))).toThrow(/Pass a JPEG, PNG, WebP, GIF, AVIF or TIFF file/);
    writeFileSync(join(dir, 'huge.jpg'), Buffer.alloc(MAX_IMAGE_BYTES + 1));
    expect(() => readImage(join(dir, 'huge.jpg'))).toThrow(/do not fit in Lambda's 6 MB event once base64-encoded\. Pass a smaller image/);
  });
});
