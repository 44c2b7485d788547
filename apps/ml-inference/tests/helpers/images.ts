// Test images, generated (never downloaded): solid colours in every accepted format, and the odd
// cases (orientation, CMYK, greyscale, alpha, animation, 16 bits, truncation, bombs).
import { createRequire } from 'node:module';

import type { Sharp } from '../../src/core/native.js';

const require = createRequire(import.meta.url);
export const sharp = require('sharp') as Sharp;

export type Rgb = readonly [number, number, number];

export const RED: Rgb = [230, 20, 25];
export const GREEN: Rgb = [20, 200, 40];
export const BLUE: Rgb = [10, 30, 220];

export function solid(width: number, height: number, [r, g, b]: Rgb): ReturnType<Sharp> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } });
}

export async function solidJpeg(colour: Rgb = RED, width = 1024, height = 768): Promise<Buffer> {
  return solid(width, height, colour).jpeg({ quality: 92 }).toBuffer();
}

export async function solidPng(colour: Rgb, width = 64, height = 48): Promise<Buffer> {
  return solid(width, height, colour).png().toBuffer();
}

/**
 * A `width`×`height` image whose top quarter is red and the rest blue, stored with EXIF
 * orientation 6 ("rotate 90° clockwise to display"): displayed, the red quarter is on the right.
 */
export async function orientedJpeg(width = 400, height = 200): Promise<Buffer> {
  const strip = await solid(width, Math.floor(height / 4), [255, 0, 0])
    .png()
    .toBuffer();
  return solid(width, height, [0, 0, 255])
    .composite([{ input: strip, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A two-frame animated GIF: the first frame red, the second green. */
export async function animatedGif(): Promise<Buffer> {
  const frame = (colour: Rgb): Promise<Buffer> => solid(32, 32, colour).raw().toBuffer();
  const frames = Buffer.concat([await frame([255, 0, 0]), await frame([0, 255, 0])]);
  return sharp(frames, { raw: { width: 32, height: 64, channels: 3, pageHeight: 32 } as never })
    .gif({ loop: 0, delay: [100, 100] })
    .toBuffer();
}

/** Interleaved RGB bytes of a smooth, varied test picture (gradients, waves, a little noise). */
export function syntheticPixels(width: number, height: number, seed = 7): Uint8Array {
  const pixels = new Uint8Array(width * height * 3);
  let state = seed;
  const noise = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = Math.floor((x * 255) / width);
      pixels[i + 1] = Math.floor((y * 255) / height);
      pixels[i + 2] = Math.max(0, Math.min(255, Math.floor(128 + 100 * Math.sin(x / 7) * Math.cos(y / 11) + noise() * 40 - 20)));
    }
  }
  return pixels;
}

export async function encodeRaw(pixels: Uint8Array, width: number, height: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const image = sharp(Buffer.from(pixels), { raw: { width, height, channels: 3 } });
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 95 }).toBuffer();
}

/** A highly compressible PNG with more pixels than `limit` (a decompression bomb in small). */
export async function pixelBomb(side: number): Promise<Buffer> {
  return solid(side, side, [0, 0, 0]).png({ compressionLevel: 9 }).toBuffer();
}
