// model.json: how to turn an image into the model's input and its output into probabilities.
// Every field is optional; the defaults are the AWS post's torchvision transform:
//   Resize((600, 600), BILINEAR) → CenterCrop((448, 448)) → ToTensor() → Normalize(mean, std)
// and a model that outputs logits (softmax applied here).
import { ModelInvalidError } from '../errors.js';

export type Layout = 'NCHW' | 'NHWC';
export type Interpolation = 'bilinear' | 'bicubic' | 'nearest' | 'lanczos';

/** Resize to exactly width×height (the post's), or scale so the shorter side is `shorterSide`. */
export type ResizeSpec = { readonly width: number; readonly height: number } | { readonly shorterSide: number };

/** model.json as written by people: every field optional. */
export interface ModelConfigFile {
  /** The model input to feed. @default the model's only input */
  readonly input?: string;
  /** @default 'NCHW' */
  readonly layout?: Layout;
  /** @default { width: 600, height: 600 } */
  readonly resize?: ResizeSpec;
  /** Centre crop after the resize. @default { width: 448, height: 448 } */
  readonly crop?: { readonly width: number; readonly height: number };
  /** @default 'bilinear' */
  readonly interpolation?: Interpolation;
  /** Per-channel (R, G, B) mean subtracted after scaling to [0, 1]. @default [0.485, 0.456, 0.406] */
  readonly mean?: readonly number[];
  /** Per-channel (R, G, B) divisor. @default [0.229, 0.224, 0.225] */
  readonly std?: readonly number[];
  /** The model output holding one score per label. @default the model's first output */
  readonly output?: string;
  /** Apply softmax to the output (true when the model outputs logits). @default true */
  readonly softmax?: boolean;
  /** Colour transparent pixels are composed onto, as [R, G, B] 0–255. @default [255, 255, 255] */
  readonly background?: readonly number[];
  readonly description?: string;
}

/** model.json with every default filled in. */
export interface ModelConfig {
  readonly input: string | undefined;
  readonly layout: Layout;
  readonly resize: ResizeSpec;
  readonly crop: { readonly width: number; readonly height: number };
  readonly interpolation: Interpolation;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly output: string | undefined;
  readonly softmax: boolean;
  readonly background: readonly [number, number, number];
  readonly description: string;
}

/** The AWS post's preprocessing, and a model that outputs logits. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = Object.freeze({
  input: undefined,
  layout: 'NCHW',
  resize: Object.freeze({ width: 600, height: 600 }),
  crop: Object.freeze({ width: 448, height: 448 }),
  interpolation: 'bilinear',
  mean: Object.freeze([0.485, 0.456, 0.406] as const),
  std: Object.freeze([0.229, 0.224, 0.225] as const),
  output: undefined,
  softmax: true,
  background: Object.freeze([255, 255, 255] as const),
  description: '',
});

const KEYS = ['input', 'layout', 'resize', 'crop', 'interpolation', 'mean', 'std', 'output', 'softmax', 'background', 'description'];
const MAX_SIDE = 4096;

/**
 * Parses and checks model.json text. Throws {@link ModelInvalidError} naming the field and what to
 * write instead; `where` names the release in messages (`demo 1.0.0`).
 */
export function parseModelConfig(text: string, where: string): ModelConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelInvalidError(
      `${where}: model.json is not valid JSON (${(error as Error).message}). Fix it and install the model again.`,
      { cause: error },
    );
  }
  return resolveModelConfig(value, where);
}

/** Checks a parsed model.json value and fills the defaults. */
export function resolveModelConfig(value: unknown, where: string): ModelConfig {
  const bad = (field: string, expected: string): never => {
    throw new ModelInvalidError(`${where}: model.json field "${field}" must be ${expected}. Fix it and install the model again.`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('(root)', 'a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KEYS.includes(key)) bad(key, `one of the known fields (${KEYS.join(', ')}); "${key}" is not one`);
  }
  const d = DEFAULT_MODEL_CONFIG;
  const name = (field: string): string | undefined => {
    const v = record[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '' || v.length > 256) bad(field, 'a non-empty string');
    return v as string;
  };
  const side = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_SIDE) bad(field, `a whole number from 1 to ${MAX_SIDE}`);
    return v as number;
  };
  const size = (field: string, v: unknown): { width: number; height: number } => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'an object { "width": …, "height": … }');
    const o = v as Record<string, unknown>;
    if (Object.keys(o).some((k) => k !== 'width' && k !== 'height')) bad(field, 'an object with only "width" and "height"');
    return { width: side(`${field}.width`, o['width']), height: side(`${field}.height`, o['height']) };
  };
  const triple = (field: string, v: unknown, ok: (n: number) => boolean, what: string): [number, number, number] => {
    if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => typeof n === 'number' && Number.isFinite(n) && ok(n))) {
      return bad(field, `an array of 3 numbers (R, G, B), each ${what}`);
    }
    const [r, g, b] = v as [number, number, number];
    return [r, g, b];
  };

  let resize: ResizeSpec = d.resize;
  const rawResize = record['resize'];
  if (rawResize !== undefined) {
    if (typeof rawResize === 'object' && rawResize !== null && 'shorterSide' in rawResize) {
      const o = rawResize as Record<string, unknown>;
      if (Object.keys(o).length !== 1) bad('resize', '{ "shorterSide": n } or { "width": w, "height": h }');
      resize = { shorterSide: side('resize.shorterSide', o['shorterSide']) };
    } else {
      resize = size('resize', rawResize);
    }
  }
  const crop = record['crop'] === undefined ? d.crop : size('crop', record['crop']);
  const minSide = 'shorterSide' in resize ? resize.shorterSide : Math.min(resize.width, resize.height);
  if ('shorterSide' in resize ? crop.width > minSide || crop.height > minSide : crop.width > resize.width || crop.height > resize.height) {
    bad(
      'crop',
      `no larger than the resized image (${'shorterSide' in resize ? `shorter side ${minSide}` : `${resize.width}×${resize.height}`})`,
    );
  }
  const layout = record['layout'] ?? d.layout;
  if (layout !== 'NCHW' && layout !== 'NHWC') bad('layout', '"NCHW" or "NHWC"');
  const interpolation = record['interpolation'] ?? d.interpolation;
  if (!['bilinear', 'bicubic', 'nearest', 'lanczos'].includes(interpolation as string)) {
    bad('interpolation', '"bilinear", "bicubic", "nearest" or "lanczos"');
  }
  const softmax = record['softmax'] ?? d.softmax;
  if (typeof softmax !== 'boolean') bad('softmax', 'true (the model outputs logits) or false (it outputs probabilities)');
  const description = record['description'] ?? '';
  if (typeof description !== 'string') bad('description', 'a string');

  return Object.freeze({
    input: name('input'),
    layout: layout as Layout,
    resize: Object.freeze(resize),
    crop: Object.freeze(crop),
    interpolation: interpolation as Interpolation,
    mean: record['mean'] === undefined ? d.mean : triple('mean', record['mean'], () => true, 'finite'),
    std: record['std'] === undefined ? d.std : triple('std', record['std'], (n) => n > 0, 'greater than 0'),
    output: name('output'),
    softmax: softmax as boolean,
    background:
      record['background'] === undefined
        ? d.background
        : triple('background', record['background'], (n) => Number.isInteger(n) && n >= 0 && n <= 255, 'a whole number 0–255'),
    description: description as string,
  });
}

/** The config as model.json content, every field explicit (what model:install writes). */
export function serializeModelConfig(config: ModelConfig): string {
  const { input, output, ...rest } = config;
  return `${JSON.stringify({ ...(input === undefined ? {} : { input }), ...rest, ...(output === undefined ? {} : { output }) }, null, 2)}\n`;
}
