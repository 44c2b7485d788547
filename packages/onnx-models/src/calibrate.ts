// Static quantization needs each activation's range: run the float32 model on sample inputs with
// every activation int8-qdq quantizes exposed as an output, and keep the smallest and largest
// value seen (min–max calibration, onnxruntime's quantize_static default).
import type * as OrtModule from 'onnxruntime-node';

import { POST_MEAN, POST_STD } from './model-json.js';
import { mulberry32, buildResNet, type ActivationRange, type ResNetOptions } from './resnet.js';

/** onnxruntime-node's module: the caller passes the one it loaded (the generators never load it). */
export type Ort = typeof OrtModule;

/** The post's normalization (ImageNet mean and std), as the preprocessing applies it. */
const MEAN = POST_MEAN;
const STD = POST_STD;

/**
 * `count` deterministic photo-like inputs of `size`×`size`, NCHW float32, normalized as the
 * preprocessing does: a sky-to-ground gradient, an ellipse of another colour, stripes and noise,
 * each with its own colours and placement. The benchmark model has random weights, so what
 * matters is that the inputs span what real photos span after normalization.
 */
export function calibrationInputs(count: number, size: number, seed = 7): Float32Array[] {
  const random = mulberry32(seed);
  const inputs: Float32Array[] = [];
  for (let n = 0; n < count; n++) {
    const colour = (): [number, number, number] => [random(), random(), random()];
    const [top, bottom, subject] = [colour(), colour(), colour()];
    const cx = size * (0.25 + random() * 0.5);
    const cy = size * (0.25 + random() * 0.5);
    const rx = size * (0.1 + random() * 0.3);
    const ry = size * (0.1 + random() * 0.3);
    const period = 4 + random() * 30;
    const plane = size * size;
    const input = new Float32Array(3 * plane);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1;
        const stripes = 0.08 * Math.sin((x + y) / period);
        for (let c = 0; c < 3; c++) {
          const background = (top[c] as number) + ((bottom[c] as number) - (top[c] as number)) * (y / size);
          const value = (inside ? (subject[c] as number) : background) + stripes + (random() - 0.5) * 0.1;
          const clamped = Math.min(1, Math.max(0, value));
          input[c * plane + y * size + x] = (clamped - (MEAN[c] as number)) / (STD[c] as number);
        }
      }
    }
    inputs.push(input);
  }
  return inputs;
}

/**
 * The range of every activation an int8-qdq ResNet quantizes, measured on the float32 model with
 * the same options (the same weights) over `inputs`.
 */
export async function calibrateResNet(
  ort: Ort,
  options: Omit<ResNetOptions, 'storage' | 'exposeActivations' | 'activationRanges'>,
  inputs: readonly Float32Array[],
): Promise<Map<string, ActivationRange>> {
  const model = buildResNet({ ...options, storage: 'float32', exposeActivations: true });
  const session = await ort.InferenceSession.create(model.onnx.toBuffer(), {
    executionProviders: ['cpu'],
    // Fusions that would hide an exposed activation are skipped by onnxruntime anyway.
    graphOptimizationLevel: 'basic',
    logSeverityLevel: 3,
  });
  const ranges = new Map<string, { min: number; max: number }>();
  const widen = (name: string, data: Float32Array): void => {
    let { min, max } = ranges.get(name) ?? { min: Infinity, max: -Infinity };
    for (const value of data) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    ranges.set(name, { min, max });
  };
  try {
    for (const input of inputs) {
      widen('image', input);
      const outputs = await session.run({ image: new ort.Tensor('float32', input, [1, 3, model.inputSize, model.inputSize]) });
      for (const name of model.activations) {
        if (name === 'image') continue;
        const tensor = outputs[name];
        if (tensor === undefined) throw new Error(`Calibration: the model did not output ${name}.`);
        widen(name, tensor.data as Float32Array);
        tensor.dispose();
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}
