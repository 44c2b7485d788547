// The demo model: a tiny but real ONNX graph whose answers can be checked by hand. It classifies
// an image by the colour its pixels average to: the nearest corner of the RGB cube (black, white,
// red, green, blue, yellow, cyan, magenta).
//
//   image [N,3,H,W] (normalized as the post's transform does)
//     → GlobalAveragePool → Flatten → Gemm (8×3 weights, 8 biases) → Softmax → probabilities [N,8]
//
// Why a linear layer can do it: with c the mean colour in [0,1]³ and p_k a corner,
//   −k‖c − p_k‖² = 2k p_k·c − k‖p_k‖² − k‖c‖²,
// and the last term is the same for every class, so softmax ignores it. The input is normalized,
// c = x·std + mean per channel, which folds into the weights and biases too. So the answer is the
// corner nearest to the mean colour of the centre crop, with probabilities softmax(−k‖c − p_k‖²).
import { POST_MEAN, POST_STD, type ModelJson } from './model-json.js';
import { DataType, encodeModel, floatTensor, attr, type Chunks } from './proto.js';

export const DEMO_LABELS = ['black', 'white', 'red', 'green', 'blue', 'yellow', 'cyan', 'magenta'] as const;

/** The corners of the RGB cube, in label order. */
export const DEMO_PROTOTYPES: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [1, 1, 1],
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 1, 0],
  [0, 1, 1],
  [1, 0, 1],
];

/** Sharpness: a pure red image is 1 away (squared) from yellow and magenta, so p(red) ≈ 1/(1 + 2e⁻⁸). */
export const DEMO_SHARPNESS = 8;

export const DEMO_VERSION = '1.0.0';

export interface DemoModelOptions {
  /** Crop size the model is declared for (its input is H×W = crop). @default 448 (the post's) */
  readonly crop?: number;
  /** Resize before the crop. @default 600 (the post's) */
  readonly resize?: number;
  readonly mean?: readonly [number, number, number];
  readonly std?: readonly [number, number, number];
  /**
   * Bytes of padding in the graph's doc string: a large model file that still loads and runs in
   * milliseconds (tests of installs racing cold starts).
   * @default 0
   */
  readonly padding?: number;
}

/** The demo model: model.onnx bytes, labels.txt and model.json. */
export function buildDemoModel(options: DemoModelOptions = {}): { onnx: Chunks; labels: string; config: ModelJson } {
  const crop = options.crop ?? 448;
  const resize = options.resize ?? 600;
  const mean = options.mean ?? POST_MEAN;
  const std = options.std ?? POST_STD;
  const k = DEMO_SHARPNESS;
  const weights: number[] = [];
  const biases: number[] = [];
  for (const p of DEMO_PROTOTYPES) {
    let bias = 0;
    for (let ch = 0; ch < 3; ch++) {
      const pc = p[ch] ?? 0;
      weights.push(2 * k * pc * (std[ch] ?? 1));
      bias += 2 * k * pc * (mean[ch] ?? 0) - k * pc * pc;
    }
    biases.push(bias);
  }
  const onnx = encodeModel({
    graphName: 'demo-colour',
    docString: `Nearest RGB-cube corner to the mean colour of the crop (see demo-model.ts).${' '.repeat(options.padding ?? 0)}`,
    nodes: [
      { opType: 'GlobalAveragePool', inputs: ['image'], outputs: ['mean'], name: 'mean_colour' },
      { opType: 'Flatten', inputs: ['mean'], outputs: ['features'], name: 'flatten', attributes: { axis: attr.int(1) } },
      {
        opType: 'Gemm',
        inputs: ['features', 'W', 'b'],
        outputs: ['logits'],
        name: 'classifier',
        attributes: { transB: attr.int(1) },
      },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], name: 'softmax', attributes: { axis: attr.int(1) } },
    ],
    initializers: [floatTensor('W', [DEMO_PROTOTYPES.length, 3], weights), floatTensor('b', [DEMO_PROTOTYPES.length], biases)],
    inputs: [{ name: 'image', elemType: DataType.FLOAT, shape: ['batch', 3, crop, crop] }],
    outputs: [{ name: 'probabilities', elemType: DataType.FLOAT, shape: ['batch', DEMO_PROTOTYPES.length] }],
    metadata: { 'lambda-efs.model': 'demo', 'lambda-efs.version': DEMO_VERSION },
  });
  return {
    onnx,
    labels: `${DEMO_LABELS.join('\n')}\n`,
    config: {
      input: 'image',
      layout: 'NCHW',
      resize: { width: resize, height: resize },
      crop: { width: crop, height: crop },
      interpolation: 'bilinear',
      mean: [...mean],
      std: [...std],
      output: 'probabilities',
      softmax: false,
      description: 'Demo: the dominant colour of the image (nearest corner of the RGB cube to its mean colour).',
    },
  };
}

/**
 * What the demo model answers for a mean colour `c` in [0,1]³: probabilities per label, computed
 * here in plain arithmetic, independently of the graph (tests compare the two).
 */
export function demoExpectedProbabilities(c: readonly [number, number, number]): number[] {
  const logits = DEMO_PROTOTYPES.map((p) => -DEMO_SHARPNESS * p.reduce((sum, pc, ch) => sum + (pc - (c[ch] ?? 0)) ** 2, 0));
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}
