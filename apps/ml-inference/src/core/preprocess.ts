// Image bytes → the model's input tensor, as the post's torchvision transform does it:
//   Resize((600, 600), BILINEAR) → CenterCrop((448, 448)) → ToTensor() → Normalize(mean, std)
// with sharp (libvips) doing the decoding, orientation, colour conversion and resampling, and one
// plain loop doing the scaling, normalization and layout. Sizes, kernel, mean and std come from
// the model's model.json (defaults: the post's).
import type { KernelEnum } from 'sharp';

import { CorruptImageError, TooManyPixelsError } from '../errors.js';
import { isHuffmanJpeg, mapDecodeError, minimumJpegBytes, sharpInputOptions, type DecodeLimits, type ImageFormat } from './decode-image.js';
import type { Interpolation, ModelConfig, ResizeSpec } from './model-config.js';
import type { Sharp } from './native.js';
import { resampleAxis } from './resample.js';

export interface PreprocessedImage {
  /** The input tensor's data: float32, layout and size from model.json. */
  readonly data: Float32Array;
  /** [1, 3, H, W] (NCHW) or [1, H, W, 3] (NHWC). */
  readonly dims: readonly number[];
  /** The image as received (before orientation). */
  readonly source: { readonly format: string; readonly width: number; readonly height: number; readonly pages: number };
}

const KERNELS: Readonly<Record<Interpolation, keyof KernelEnum>> = {
  // libvips' linear reduce is a triangle filter widened by the scale factor when shrinking, as
  // Pillow's BILINEAR (which torchvision uses for PIL images) is.
  bilinear: 'linear',
  bicubic: 'cubic',
  nearest: 'nearest',
  lanczos: 'lanczos3',
};

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The size after the resize step, for an image of width × height (after orientation). */
export function resizedSize(resize: ResizeSpec, width: number, height: number): { width: number; height: number } {
  if (!('shorterSide' in resize)) return { width: resize.width, height: resize.height };
  // torchvision.transforms.Resize(int): the shorter side becomes `size`, the longer one scales and
  // is truncated.
  const short = resize.shorterSide;
  if (width <= height) return { width: short, height: Math.trunc((short * height) / width) };
  return { width: Math.trunc((short * width) / height), height: short };
}

/** torchvision's CenterCrop offsets: int(round((size - crop) / 2)). */
export function centerCropOffsets(width: number, height: number, crop: { width: number; height: number }): { left: number; top: number } {
  return { left: roundHalfEven((width - crop.width) / 2), top: roundHalfEven((height - crop.height) / 2) };
}

/** Per-channel lookup tables: byte value → (v / 255 − mean) / std. */
function normalizationTables(mean: readonly number[], std: readonly number[]): [Float32Array, Float32Array, Float32Array] {
  const table = (channel: number): Float32Array => {
    const t = new Float32Array(256);
    const m = mean[channel] ?? 0;
    const s = std[channel] ?? 1;
    for (let v = 0; v < 256; v++) t[v] = (v / 255 - m) / s;
    return t;
  };
  return [table(0), table(1), table(2)];
}

/**
 * Decodes, orients (EXIF), converts to sRGB (CMYK, greyscale, 16-bit), composes transparency onto
 * the model's background, resizes, centre-crops, and returns the normalized tensor. The first
 * frame of an animation is used.
 */
export async function preprocessImage(
  sharp: Sharp,
  bytes: Uint8Array,
  format: ImageFormat,
  config: ModelConfig,
  limits: DecodeLimits,
): Promise<PreprocessedImage> {
  const options = sharpInputOptions(limits, format);
  let metadata;
  try {
    // Headers only, no pixels: without the cap, so a bomb is reported with its dimensions.
    metadata = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (error) {
    throw mapDecodeError(error, format, limits.maxPixels);
  }
  const width = metadata.width;
  const height = metadata.pageHeight ?? metadata.height;
  if (width === undefined || height === undefined || width < 1 || height < 1) {
    throw mapDecodeError(new Error('no image dimensions'), format, limits.maxPixels);
  }
  if (width * height > limits.maxPixels) throw new TooManyPixelsError(width, height, limits.maxPixels);
  // Before decoding: a forged header would make libvips allocate for every pixel it declares.
  if (format === 'jpeg' && bytes.length < minimumJpegBytes(width * height) && isHuffmanJpeg(bytes)) {
    throw new CorruptImageError('JPEG', `it declares ${width}×${height} pixels but holds only ${bytes.length} bytes`);
  }
  // EXIF orientations 5–8 swap width and height.
  const swapped = (metadata.orientation ?? 1) >= 5;
  const oriented = swapped ? { width: height, height: width } : { width, height };
  const resized = resizedSize(config.resize, oriented.width, oriented.height);
  const { crop } = config;
  const { left, top } = centerCropOffsets(resized.width, resized.height, crop);

  // libvips does every reduction (it matches Pillow's); enlargements are done afterwards in
  // resample.ts, which matches Pillow's pixel-centre convention (libvips' is half a pixel off).
  const reduced = { width: Math.min(resized.width, oriented.width), height: Math.min(resized.height, oriented.height) };
  const enlarge = reduced.width < resized.width || reduced.height < resized.height;
  const pipeline = libvipsSteps(
    sharp(bytes, options).autoOrient(),
    config,
    reduced.width !== oriented.width || reduced.height !== oriented.height ? reduced : undefined,
    enlarge ? undefined : { left, top, width: crop.width, height: crop.height },
  );
  let decoded: { pixels: Uint8Array; width: number; height: number };
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    decoded = { pixels: data, width: info.width, height: info.height };
  } catch (error) {
    throw mapDecodeError(error, format, limits.maxPixels);
  }
  // Where the crop starts in `decoded`: libvips already cropped when nothing was enlarged; an
  // enlargement computes only the cropped span of its axis.
  const origin = enlarge ? { left, top } : { left: 0, top: 0 };
  if (enlarge && decoded.width < resized.width) {
    decoded = resampleAxis(decoded.pixels, decoded.width, decoded.height, 'x', resized.width, config.interpolation, {
      from: left,
      to: left + crop.width,
    });
    origin.left = 0;
  }
  if (enlarge && decoded.height < resized.height) {
    decoded = resampleAxis(decoded.pixels, decoded.width, decoded.height, 'y', resized.height, config.interpolation, {
      from: top,
      to: top + crop.height,
    });
    origin.top = 0;
  }
  if (decoded.width < origin.left + crop.width || decoded.height < origin.top + crop.height) {
    throw mapDecodeError(new Error(`unexpected decoded size ${decoded.width}×${decoded.height}`), format, limits.maxPixels);
  }
  const data = toTensor(decoded.pixels, decoded.width, origin, crop, config);
  const dims = config.layout === 'NCHW' ? [1, 3, crop.height, crop.width] : [1, crop.height, crop.width, 3];
  return { data, dims, source: { format: metadata.format ?? format, width, height, pages: metadata.pages ?? 1 } };
}

/**
 * Interleaved RGB bytes (HWC, `stride` pixels a row) → the crop at `origin`, normalized, as
 * float32 in the model's layout.
 */
function toTensor(
  pixels: Uint8Array,
  stride: number,
  origin: { readonly left: number; readonly top: number },
  crop: { readonly width: number; readonly height: number },
  config: Pick<ModelConfig, 'mean' | 'std' | 'layout'>,
): Float32Array {
  const [t0, t1, t2] = normalizationTables(config.mean, config.std);
  const { width, height } = crop;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  const nchw = config.layout === 'NCHW';
  for (let y = 0; y < height; y++) {
    let p = ((origin.top + y) * stride + origin.left) * 3;
    for (let x = 0; x < width; x++, p += 3) {
      const i = y * width + x;
      if (nchw) {
        out[i] = t0[pixels[p] as number] as number;
        out[plane + i] = t1[pixels[p + 1] as number] as number;
        out[2 * plane + i] = t2[pixels[p + 2] as number] as number;
      } else {
        out[i * 3] = t0[pixels[p] as number] as number;
        out[i * 3 + 1] = t1[pixels[p + 1] as number] as number;
        out[i * 3 + 2] = t2[pixels[p + 2] as number] as number;
      }
    }
  }
  return out;
}

type SharpImage = ReturnType<Sharp>;

/**
 * What libvips does of the pipeline: flatten onto the model's background, reduce to `reduceTo`
 * (if given), cut out `crop` (if given), then sRGB, 8-bit, no alpha.
 */
function libvipsSteps(
  image: SharpImage,
  config: ModelConfig,
  reduceTo: { readonly width: number; readonly height: number } | undefined,
  crop: { readonly left: number; readonly top: number; readonly width: number; readonly height: number } | undefined,
): SharpImage {
  const [r, g, b] = config.background;
  let pipeline = image.flatten({ background: { r, g, b } });
  if (reduceTo !== undefined) {
    pipeline = pipeline.resize(reduceTo.width, reduceTo.height, {
      fit: 'fill',
      kernel: KERNELS[config.interpolation],
      fastShrinkOnLoad: false,
    });
  }
  if (crop !== undefined) pipeline = pipeline.extract(crop);
  return pipeline.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' });
}

/**
 * Starts libvips on a generated image through the pipeline's own steps ({@link libvipsSteps}), as
 * one job on libvips' threads: its first-use costs (the thread pool, the operations, the reducer)
 * are then paid off the main thread, in parallel with onnxruntime's session creation, which
 * blocks the main thread. Resolves when done; never rejects.
 */
export function warmUpResampler(sharp: Sharp, config: ModelConfig): Promise<void> {
  try {
    const { crop } = config;
    const side = 2 * Math.max(crop.width, crop.height);
    const image = sharp({ create: { width: side, height: side, channels: 3, background: { r: 128, g: 128, b: 128 } } });
    const job = libvipsSteps(
      image,
      config,
      { width: side / 2, height: side / 2 },
      { left: 0, top: 0, width: crop.width, height: crop.height },
    ).toBuffer();
    return job.then(
      () => undefined,
      () => undefined,
    );
  } catch {
    // Only a warm-up (a stand-in sharp in tests may not chain).
    return Promise.resolve();
  }
}

/**
 * Runs a small generated JPEG through the whole pipeline once, so that libvips' first-use costs
 * (its thread pool, the JPEG decoder, the resampler) are not paid by a request. Never throws.
 */
export async function warmUpDecoder(sharp: Sharp, config: ModelConfig): Promise<void> {
  try {
    // Larger than the resize, so that libvips' reduction (the usual path) is the one warmed.
    const side =
      2 *
      Math.max(
        config.crop.width,
        config.crop.height,
        'shorterSide' in config.resize ? config.resize.shorterSide : Math.max(config.resize.width, config.resize.height),
      );
    const jpeg = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .jpeg()
      .toBuffer();
    await preprocessImage(sharp, jpeg, 'jpeg', config, { maxPixels: side * side });
  } catch {
    // Only a warm-up.
  }
}
