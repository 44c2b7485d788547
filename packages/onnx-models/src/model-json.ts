// model.json as the generators write it: every field explicit, in the order ml-inference's
// model:install writes it, so a generated source directory is byte-identical to what the
// installer would produce. This package cannot import ml-inference (ml-inference's CLI and tests
// import this package); ml-inference's tests check that its parser reads these files back
// unchanged (tests/unit/generated-models.test.ts there).

/** The fields a generated model.json holds (a subset of ml-inference's ModelConfigFile). */
export interface ModelJson {
  readonly input?: string;
  readonly layout?: 'NCHW' | 'NHWC';
  readonly resize?: { readonly width: number; readonly height: number };
  readonly crop?: { readonly width: number; readonly height: number };
  readonly interpolation?: 'bilinear' | 'bicubic' | 'nearest' | 'lanczos';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly output?: string;
  readonly softmax?: boolean;
  readonly background?: readonly number[];
  readonly description?: string;
}

/** The AWS post's preprocessing (ImageNet mean and std), ml-inference's defaults. */
export const POST_MEAN = [0.485, 0.456, 0.406] as const;
export const POST_STD = [0.229, 0.224, 0.225] as const;

/** ml-inference's model.json defaults: the post's torchvision transform, a model that outputs logits. */
export const POST_PREPROCESSING = Object.freeze({
  layout: 'NCHW',
  resize: Object.freeze({ width: 600, height: 600 }),
  crop: Object.freeze({ width: 448, height: 448 }),
  interpolation: 'bilinear',
  mean: POST_MEAN,
  std: POST_STD,
  softmax: true,
  background: Object.freeze([255, 255, 255] as const),
} satisfies ModelJson);

/** model.json text with the defaults filled in, in model:install's field order. */
export function modelJsonText(config: ModelJson): string {
  const d = POST_PREPROCESSING;
  const explicit = {
    ...(config.input === undefined ? {} : { input: config.input }),
    layout: config.layout ?? d.layout,
    resize: config.resize ?? d.resize,
    crop: config.crop ?? d.crop,
    interpolation: config.interpolation ?? d.interpolation,
    mean: config.mean ?? d.mean,
    std: config.std ?? d.std,
    softmax: config.softmax ?? d.softmax,
    background: config.background ?? d.background,
    description: config.description ?? '',
    ...(config.output === undefined ? {} : { output: config.output }),
  };
  return `${JSON.stringify(explicit, null, 2)}\n`;
}
