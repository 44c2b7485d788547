// Preprocessing parity with the post's torchvision transform, checked against a reference written
// here from the algorithms' definitions, in plain loops over decoded pixels:
//   Resize((600, 600), BILINEAR)   Pillow's resample: per axis (horizontal pass first), a triangle
//                                  filter of support max(scale, 1), weights normalized, each pass
//                                  rounded to bytes;
//   CenterCrop((448, 448))         offsets int(round((600 − 448) / 2)) = 76;
//   ToTensor() + Normalize(m, s)   (v / 255 − m) / s, channel planes (NCHW).
//
// Tolerance: libvips does the reductions with fixed-point arithmetic; its bytes differ from
// Pillow's by at most 2 levels out of 255 (measured: 2 at most, 0.05 on average). So the test
// allows |Δ| ≤ 2/255 before normalization, i.e. ≤ 2 / 255 / std per channel after it (≤ 0.0351),
// and a mean |Δ| ≤ 0.005 (a quarter of a level; measured 0.0008 to 0.003).
import { describe, expect, it } from 'vitest';

import { checkImageBytes } from '../../src/core/decode-image.js';
import { DEFAULT_MODEL_CONFIG, resolveModelConfig, type ModelConfig } from '../../src/core/model-config.js';
import { centerCropOffsets, preprocessImage, resizedSize, roundHalfEven, warmUpResampler } from '../../src/core/preprocess.js';
import type { Sharp } from '../../src/core/native.js';
import { CorruptImageError, TooManyPixelsError } from '../../src/errors.js';
import { animatedGif, encodeRaw, orientedJpeg, pixelBomb, sharp, solid, solidJpeg, syntheticPixels } from '../helpers/images.js';

const MAX_LEVELS = 2;

/** One Pillow resampling pass (bilinear) along x or y, in float, rounded to bytes. */
function referencePass(src: Uint8Array, width: number, height: number, axis: 'x' | 'y', outSize: number): Uint8Array {
  const inSize = axis === 'x' ? width : height;
  const outW = axis === 'x' ? outSize : width;
  const outH = axis === 'x' ? height : outSize;
  const out = new Uint8Array(outW * outH * 3);
  const scale = inSize / outSize;
  const filterScale = scale > 1 ? scale : 1;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const o = axis === 'x' ? ox : oy;
      const center = (o + 0.5) * scale;
      const lo = Math.max(0, Math.trunc(center - filterScale + 0.5));
      const hi = Math.min(inSize, Math.trunc(center + filterScale + 0.5));
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let norm = 0;
        for (let i = lo; i < hi; i++) {
          const w = Math.max(0, 1 - Math.abs((i - center + 0.5) / filterScale));
          const sx = axis === 'x' ? i : ox;
          const sy = axis === 'y' ? i : oy;
          sum += w * (src[(sy * width + sx) * 3 + c] as number);
          norm += w;
        }
        out[(oy * outW + ox) * 3 + c] = Math.min(255, Math.max(0, Math.round(sum / norm)));
      }
    }
  }
  return out;
}

/** The post's transform on RGB bytes: Resize((600,600)) → CenterCrop(448) → ToTensor → Normalize. */
function referenceTransform(rgb: Uint8Array, width: number, height: number): Float32Array {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const horizontal = referencePass(rgb, width, height, 'x', 600);
  const resized = referencePass(horizontal, 600, height, 'y', 600);
  const top = 76;
  const left = 76;
  const out = new Float32Array(3 * 448 * 448);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 448; y++) {
      for (let x = 0; x < 448; x++) {
        const v = resized[((y + top) * 600 + (x + left)) * 3 + c] as number;
        out[c * 448 * 448 + y * 448 + x] = (v / 255 - (mean[c] as number)) / (std[c] as number);
      }
    }
  }
  return out;
}

function compare(ours: Float32Array, reference: Float32Array): { maxLevels: number; mean: number } {
  const std = [0.229, 0.224, 0.225];
  const plane = 448 * 448;
  let maxLevels = 0;
  let total = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs((ours[i] as number) - (reference[i] as number));
    total += d;
    maxLevels = Math.max(maxLevels, d * (std[Math.floor(i / plane)] as number) * 255);
  }
  return { maxLevels, mean: total / reference.length };
}

async function decodedPixels(bytes: Buffer): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(bytes).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgb: data, width: info.width, height: info.height };
}

const limits = { maxPixels: 40_000_000 };

describe('preprocessing parity with the post (Pillow + torchvision)', () => {
  it.each([
    [1024, 768, 'shrinks both sides'],
    [640, 480, 'shrinks the width, enlarges the height'],
    [300, 200, 'enlarges both sides'],
    [601, 599, 'shrinks one pixel, enlarges one pixel'],
    [2000, 1500, 'shrinks by more than 3'],
  ])('matches the reference within 2/255 for a %i×%i PNG (%s)', async (width, height) => {
    const rgb = syntheticPixels(width, height);
    const png = await encodeRaw(rgb, width, height, 'png');
    const ours = await preprocessImage(sharp, png, 'png', DEFAULT_MODEL_CONFIG, limits);
    expect(ours.dims).toEqual([1, 3, 448, 448]);
    const { maxLevels, mean } = compare(ours.data, referenceTransform(rgb, width, height));
    expect(maxLevels).toBeLessThanOrEqual(MAX_LEVELS + 1e-3);
    expect(mean).toBeLessThan(0.005);
  });

  it('matches the reference within 2/255 on the decoded pixels of a 1024×768 JPEG', async () => {
    const jpeg = await encodeRaw(syntheticPixels(1024, 768), 1024, 768, 'jpeg');
    const { rgb, width, height } = await decodedPixels(jpeg);
    const ours = await preprocessImage(sharp, jpeg, 'jpeg', DEFAULT_MODEL_CONFIG, limits);
    const { maxLevels, mean } = compare(ours.data, referenceTransform(rgb, width, height));
    expect(maxLevels).toBeLessThanOrEqual(MAX_LEVELS + 1e-3);
    expect(mean).toBeLessThan(0.005);
  });

  it('normalizes a solid colour exactly: (v / 255 − mean) / std', async () => {
    const png = await solid(50, 40, [255, 128, 0]).png().toBuffer();
    const { data } = await preprocessImage(sharp, png, 'png', DEFAULT_MODEL_CONFIG, limits);
    const plane = 448 * 448;
    expect(data[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(data[plane + 1000]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 5);
    expect(data[2 * plane + plane - 1]).toBeCloseTo((0 - 0.406) / 0.225, 5);
  });

  it("computes torchvision's crop offsets with Python's round-half-to-even", () => {
    expect(centerCropOffsets(600, 600, { width: 448, height: 448 })).toEqual({ left: 76, top: 76 });
    expect(roundHalfEven(76.5)).toBe(76);
    expect(roundHalfEven(77.5)).toBe(78);
    expect(roundHalfEven(2.4)).toBe(2);
    expect(centerCropOffsets(601, 603, { width: 448, height: 448 })).toEqual({ left: 76, top: 78 });
  });

  it('resizes the shorter side like torchvision Resize(int)', () => {
    expect(resizedSize({ shorterSide: 256 }, 1024, 768)).toEqual({ width: 341, height: 256 });
    expect(resizedSize({ shorterSide: 256 }, 500, 1000)).toEqual({ width: 256, height: 512 });
    expect(resizedSize({ width: 600, height: 600 }, 10, 20)).toEqual({ width: 600, height: 600 });
  });

  it.each(['bilinear', 'bicubic', 'lanczos', 'nearest'] as const)(
    'enlarges with %s interpolation, keeping a flat colour flat',
    async (interpolation) => {
      const config = resolveModelConfig({ interpolation }, 'test');
      const png = await solid(30, 20, [200, 100, 50]).png().toBuffer();
      const { data } = await preprocessImage(sharp, png, 'png', config, limits);
      const plane = 448 * 448;
      for (const i of [0, 1234, plane - 1]) {
        expect(data[i]).toBeCloseTo((200 / 255 - 0.485) / 0.229, 4);
        expect(data[2 * plane + i]).toBeCloseTo((50 / 255 - 0.406) / 0.225, 4);
      }
    },
  );

  it('lays out NHWC when model.json asks for it', async () => {
    const config: ModelConfig = resolveModelConfig(
      { layout: 'NHWC', resize: { width: 8, height: 8 }, crop: { width: 4, height: 4 } },
      'test',
    );
    const png = await solid(8, 8, [255, 0, 0]).png().toBuffer();
    const { data, dims } = await preprocessImage(sharp, png, 'png', config, limits);
    expect(dims).toEqual([1, 4, 4, 3]);
    expect(data[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(data[1]).toBeCloseTo((0 - 0.456) / 0.224, 5);
  });
});

/** Mean of each channel of an NCHW tensor, back in [0, 1]. */
function meanColour(data: Float32Array, region?: { x0: number; x1: number }): [number, number, number] {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const plane = 448 * 448;
  return [0, 1, 2].map((c) => {
    let sum = 0;
    let n = 0;
    for (let y = 0; y < 448; y++) {
      for (let x = region?.x0 ?? 0; x < (region?.x1 ?? 448); x++) {
        sum += (data[c * plane + y * 448 + x] as number) * (std[c] as number) + (mean[c] as number);
        n++;
      }
    }
    return sum / n;
  }) as [number, number, number];
}

describe('decoding the images people send', () => {
  it('applies the EXIF orientation (orientation 6 puts the top strip on the right)', async () => {
    const jpeg = await orientedJpeg();
    const { data } = await preprocessImage(sharp, jpeg, 'jpeg', DEFAULT_MODEL_CONFIG, limits);
    const right = meanColour(data, { x0: 400, x1: 448 });
    const left = meanColour(data, { x0: 0, x1: 48 });
    expect(right[0]).toBeGreaterThan(0.9);
    expect(left[2]).toBeGreaterThan(0.9);
    expect(left[0]).toBeLessThan(0.1);
  });

  it('converts CMYK to sRGB', async () => {
    const cmyk = await solid(64, 48, [255, 0, 0]).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const colour = meanColour((await preprocessImage(sharp, cmyk, 'jpeg', DEFAULT_MODEL_CONFIG, limits)).data);
    expect(colour[0]).toBeGreaterThan(0.8);
    expect(colour[1]).toBeLessThan(0.3);
  });

  it('gives greyscale images three equal channels', async () => {
    const grey = await solid(64, 48, [128, 128, 128]).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const colour = meanColour((await preprocessImage(sharp, grey, 'png', DEFAULT_MODEL_CONFIG, limits)).data);
    expect(colour[0]).toBeCloseTo(128 / 255, 3);
    expect(colour[1]).toBeCloseTo(128 / 255, 3);
    expect(colour[2]).toBeCloseTo(128 / 255, 3);
  });

  it('composes transparent pixels onto white (model.json background)', async () => {
    const transparent = await sharp({ create: { width: 64, height: 48, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const colour = meanColour((await preprocessImage(sharp, transparent, 'png', DEFAULT_MODEL_CONFIG, limits)).data);
    expect(colour.every((v) => v > 0.99)).toBe(true);
    const onBlack = resolveModelConfig({ background: [0, 0, 0] }, 'test');
    const dark = meanColour((await preprocessImage(sharp, transparent, 'png', onBlack, limits)).data);
    expect(dark.every((v) => v < 0.01)).toBe(true);
  });

  it('reads 16-bit PNGs as 8-bit colour', async () => {
    const deep = await solid(64, 48, [0, 0, 255]).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const colour = meanColour((await preprocessImage(sharp, deep, 'png', DEFAULT_MODEL_CONFIG, limits)).data);
    expect(colour[2]).toBeGreaterThan(0.99);
    expect(colour[0]).toBeLessThan(0.01);
  });

  it('uses the first frame of an animation', async () => {
    const gif = await animatedGif();
    expect((await sharp(gif, { pages: -1 }).metadata()).pages).toBe(2);
    const { data, source } = await preprocessImage(sharp, gif, 'gif', DEFAULT_MODEL_CONFIG, limits);
    expect(source.height).toBe(32);
    const colour = meanColour(data);
    expect(colour[0]).toBeGreaterThan(0.95);
    expect(colour[1]).toBeLessThan(0.05);
  });

  it.each(['webp', 'avif', 'tiff', 'gif'] as const)('decodes %s', async (format) => {
    const bytes = await solid(64, 48, [0, 200, 0])[format]().toBuffer();
    const sniffed = checkImageBytes(bytes, 'test', false);
    expect(sniffed).toBe(format);
    const colour = meanColour((await preprocessImage(sharp, bytes, sniffed, DEFAULT_MODEL_CONFIG, limits)).data);
    expect(colour[1]).toBeGreaterThan(0.7);
  });

  it('refuses a decompression bomb with 413 before decoding it, naming its size', async () => {
    const bomb = await pixelBomb(3_000);
    expect(bomb.length).toBeLessThan(50_000);
    const error = await preprocessImage(sharp, bomb, 'png', DEFAULT_MODEL_CONFIG, { maxPixels: 4_000_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyPixelsError);
    expect((error as TooManyPixelsError).status).toBe(413);
    expect((error as Error).message).toBe(
      '3000×3000 pixels is more than the limit of 4000000 pixels. Scale the image down and send it again.',
    );
  });

  it('refuses a truncated JPEG with 422', async () => {
    const jpeg = await solidJpeg();
    const error = await preprocessImage(sharp, jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'jpeg', DEFAULT_MODEL_CONFIG, limits).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptImageError);
    expect((error as CorruptImageError).status).toBe(422);
    expect((error as Error).message).toMatch(
      /^The JPEG image could not be decoded \(.+\): it is truncated or corrupt\. Send the complete file\.$/,
    );
  });

  it('refuses a truncated PNG with 422', async () => {
    const png = await encodeRaw(syntheticPixels(200, 100), 200, 100, 'png');
    const error = await preprocessImage(sharp, png.subarray(0, png.length - 200), 'png', DEFAULT_MODEL_CONFIG, limits).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptImageError);
  });

  it('refuses a corrupt JPEG (valid header, garbage after) with 422', async () => {
    const jpeg = await solidJpeg();
    const corrupt = Buffer.concat([jpeg.subarray(0, 120), Buffer.alloc(2_000, 0x5a)]);
    const error = await preprocessImage(sharp, corrupt, 'jpeg', DEFAULT_MODEL_CONFIG, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptImageError);
  });
});

describe('warming libvips up while the session is created', () => {
  /** A stand-in for sharp that records the pipeline it is asked for, and fails or throws on demand. */
  function recordingSharp(outcome: 'ok' | 'rejects' | 'throws'): { sharp: Sharp; calls: [string, unknown][] } {
    const calls: [string, unknown][] = [];
    const pipeline: Record<string, (arg?: unknown) => unknown> = {};
    for (const name of ['flatten', 'resize', 'extract', 'toColourspace', 'removeAlpha', 'raw']) {
      pipeline[name] = (...args: unknown[]) => {
        calls.push([name, args]);
        return pipeline;
      };
    }
    pipeline['toBuffer'] = () => (outcome === 'rejects' ? Promise.reject(new Error('libvips failed')) : Promise.resolve(Buffer.alloc(0)));
    const fake = (input: unknown) => {
      if (outcome === 'throws') throw new Error('not a sharp');
      calls.push(['input', [input]]);
      return pipeline;
    };
    return { sharp: fake as unknown as Sharp, calls };
  }

  it("runs one job through the model's own operations: its kernel, a reduction to its crop", async () => {
    const config = resolveModelConfig(
      { crop: { width: 224, height: 224 }, resize: { shorterSide: 256 }, interpolation: 'bicubic' },
      'model.json',
    );
    const { sharp: fake, calls } = recordingSharp('ok');
    await expect(warmUpResampler(fake, config)).resolves.toBeUndefined();
    const [kind, [input]] = calls[0] as [string, [{ create: { width: number } }]];
    expect(kind).toBe('input');
    expect(input.create.width).toBe(448);
    const resize = calls.find(([name]) => name === 'resize')?.[1] as [number, number, { kernel: string }];
    expect(resize.slice(0, 2)).toEqual([224, 224]);
    expect(resize[2].kernel).toBe('cubic');
    expect(calls.find(([name]) => name === 'extract')?.[1]).toEqual([{ left: 0, top: 0, width: 224, height: 224 }]);
  });

  it('never rejects: a failing libvips or a stand-in without the API only costs the warm-up', async () => {
    await expect(warmUpResampler(recordingSharp('rejects').sharp, DEFAULT_MODEL_CONFIG)).resolves.toBeUndefined();
    await expect(warmUpResampler(recordingSharp('throws').sharp, DEFAULT_MODEL_CONFIG)).resolves.toBeUndefined();
  });
});
