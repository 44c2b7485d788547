// Image bytes → the answer: decode and preprocess (sharp), run (onnxruntime), softmax and top-N.
// No Lambda types here; the handler passes bytes in and maps the typed errors to statuses.
import { InferenceError } from '../errors.js';
import { checkImageBytes } from './decode-image.js';
import type { LoadedModel } from './model-store.js';
import { preprocessImage } from './preprocess.js';

export interface Prediction {
  readonly label: string;
  readonly probability: number;
}

export interface Classification {
  /** The top label: the post's answer field. */
  readonly bird_class: string;
  readonly predictions: readonly Prediction[];
  readonly model: { readonly name: string; readonly version: string };
}

export interface ClassifyOptions {
  /** How many predictions to return (1–20). */
  readonly top: number;
  readonly maxPixels: number;
  readonly allowSvg: boolean;
  /** Names the image in error messages ("The uploaded image"). */
  readonly what: string;
}

export interface ClassifyTimings {
  readonly decodeMs: number;
  readonly inferMs: number;
  readonly image: { readonly format: string; readonly width: number; readonly height: number };
}

/** Numerically stable softmax (max subtracted); float64 sums. */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i] as number);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = Math.exp((scores[i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** The `top` highest probabilities with their labels, highest first (ties: lower class index first). */
export function topPredictions(probabilities: ArrayLike<number>, labels: readonly string[], top: number): Prediction[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i);
  order.sort((a, b) => (probabilities[b] as number) - (probabilities[a] as number) || a - b);
  return order.slice(0, Math.min(top, order.length)).map((i) => ({
    label: labels[i] ?? String(i),
    // Six decimals: enough to rank and compare, short in JSON.
    probability: Math.round((probabilities[i] as number) * 1e6) / 1e6,
  }));
}

/** Classifies image bytes with a loaded model. */
export async function classifyImage(
  model: LoadedModel,
  bytes: Uint8Array,
  options: ClassifyOptions,
): Promise<{ classification: Classification; timings: ClassifyTimings }> {
  const format = checkImageBytes(bytes, options.what, options.allowSvg);
  const decodeStart = performance.now();
  const input = await preprocessImage(model.libraries.sharp, bytes, format, model.config, { maxPixels: options.maxPixels });
  const inferStart = performance.now();
  const scores = await model.session.run(input.data, input.dims);
  const inferEnd = performance.now();
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new InferenceError(`The model produced a non-finite score (${scores[i]}) for class ${i}.`);
  }
  const probabilities = model.config.softmax ? softmax(scores) : scores;
  const predictions = topPredictions(probabilities, model.labels, options.top);
  return {
    classification: {
      bird_class: predictions[0]?.label ?? '',
      predictions,
      model: { name: model.name, version: model.version },
    },
    timings: {
      decodeMs: round(inferStart - decodeStart),
      inferMs: round(inferEnd - inferStart),
      image: { format: input.source.format, width: input.source.width, height: input.source.height },
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
