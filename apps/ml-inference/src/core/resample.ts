// Enlarging along one axis the way Pillow does (torchvision resizes PIL images with Pillow).
// libvips shrinks exactly as Pillow does (a triangle filter widened by the scale), but when it
// enlarges it samples with another pixel-centre convention, a shift of up to half a pixel. So
// preprocessing lets libvips do every reduction and does enlargements here: few pixels (only
// images smaller than the model's resize), and a short filter.

export type Filter = 'bilinear' | 'bicubic' | 'lanczos' | 'nearest';

const FILTERS: Readonly<Record<Exclude<Filter, 'nearest'>, { readonly support: number; readonly weight: (x: number) => number }>> = {
  bilinear: { support: 1, weight: (x) => ((x < 0 ? -x : x) < 1 ? 1 - (x < 0 ? -x : x) : 0) },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    weight: (x) => {
      const sinc = (v: number): number => (v === 0 ? 1 : Math.sin(Math.PI * v) / (Math.PI * v));
      return x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    },
  },
};

interface Taps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly stride: number;
}

/**
 * Pillow's precomputed coefficients (ImagingResample's precompute_coeffs) for the outputs
 * `from` to `to` − 1 of one axis resized from `inSize` to `outSize`.
 */
function taps(inSize: number, outSize: number, filter: Exclude<Filter, 'nearest'>, from: number, to: number): Taps {
  const { support: base, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const n = to - from;
  const first = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float64Array(n * stride);
  for (let j = 0; j < n; j++) {
    const center = (from + j + 0.5) * scale;
    const min = Math.max(Math.trunc(center - support + 0.5), 0);
    const max = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let x = min; x < max; x++) {
      const w = weight((x - center + 0.5) / filterScale);
      weights[j * stride + (x - min)] = w;
      total += w;
    }
    for (let x = 0; x < max - min; x++) weights[j * stride + x] = total === 0 ? 0 : (weights[j * stride + x] as number) / total;
    first[j] = min;
    count[j] = max - min;
  }
  return { first, count, weights, stride };
}

export interface Resampled {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Resamples interleaved RGB bytes along one axis to `outSize`, with Pillow's coefficients and its
 * rounding to bytes after the pass. Only the outputs in `[window.from, window.to)` of that axis
 * are computed (the centre crop needs no more).
 */
export function resampleAxis(
  pixels: Uint8Array,
  width: number,
  height: number,
  axis: 'x' | 'y',
  outSize: number,
  filter: Filter,
  window: { readonly from: number; readonly to: number } = { from: 0, to: outSize },
): Resampled {
  const inSize = axis === 'x' ? width : height;
  const span = window.to - window.from;
  const outWidth = axis === 'x' ? span : width;
  const outHeight = axis === 'x' ? height : span;
  const out = new Uint8Array(outWidth * outHeight * 3);
  if (filter === 'nearest') {
    // Pillow's NEAREST: the source pixel under the output pixel's centre.
    const scale = inSize / outSize;
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++) {
        const sx = axis === 'x' ? Math.min(inSize - 1, Math.floor((window.from + x + 0.5) * scale)) : x;
        const sy = axis === 'y' ? Math.min(inSize - 1, Math.floor((window.from + y + 0.5) * scale)) : y;
        const s = (sy * width + sx) * 3;
        const d = (y * outWidth + x) * 3;
        out[d] = pixels[s] as number;
        out[d + 1] = pixels[s + 1] as number;
        out[d + 2] = pixels[s + 2] as number;
      }
    }
    return { pixels: out, width: outWidth, height: outHeight };
  }
  const t = taps(inSize, outSize, filter, window.from, window.to);
  // Per output pixel: the taps run along x (step one pixel) or along y (step one row).
  const step = axis === 'x' ? 3 : width * 3;
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const j = axis === 'x' ? x : y;
      const n = t.count[j] as number;
      const base = j * t.stride;
      let s = axis === 'x' ? (y * width + (t.first[j] as number)) * 3 : ((t.first[j] as number) * width + x) * 3;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = 0; i < n; i++, s += step) {
        const w = t.weights[base + i] as number;
        r += w * (pixels[s] as number);
        g += w * (pixels[s + 1] as number);
        b += w * (pixels[s + 2] as number);
      }
      const d = (y * outWidth + x) * 3;
      out[d] = clampByte(r);
      out[d + 1] = clampByte(g);
      out[d + 2] = clampByte(b);
    }
  }
  return { pixels: out, width: outWidth, height: outHeight };
}

function clampByte(value: number): number {
  // Round half up, as Pillow's fixed-point rounding does for these non-negative sums.
  const rounded = Math.floor(value + 0.5);
  return rounded < 0 ? 0 : rounded > 255 ? 255 : rounded;
}
