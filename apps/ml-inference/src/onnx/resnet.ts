// A ResNet-50-shaped ONNX graph with random weights, for benchmarks: the post's model is a
// ResNet-50 backbone (NTS-Net) at 448×448 with 200 bird classes. Batch-norm is folded into the
// convolutions' weights and biases, as torch.onnx.export does for a model in eval mode.
//
// Weight storage can be float32 (the reference), float16 or int8 (per-output-channel scales):
// the narrower ones are stored narrow and widened by Cast (and Mul) nodes on constant inputs,
// which onnxruntime folds when it loads the model. Inference then runs in float32 exactly as
// before; what changes is the bytes read from the file system at every cold start.
import { DataType, attr, encodeModel, floatTensor, int64Tensor, type Chunks, type NodeSpec, type TensorSpec } from './proto.js';

export type WeightStorage = 'float32' | 'float16' | 'int8';

export interface ResNetOptions {
  /** @default 200 (CUB-200, the post's bird classes) */
  readonly classes?: number;
  /** Square input size. @default 448 (the post's crop) */
  readonly inputSize?: number;
  /** Bottleneck blocks per stage. @default [3, 4, 6, 3] (ResNet-50) */
  readonly blocks?: readonly [number, number, number, number];
  /** @default 'float32' */
  readonly storage?: WeightStorage;
  /** PRNG seed, so a generated model is the same bytes every time. @default 50 */
  readonly seed?: number;
}

export interface ResNetModel {
  readonly onnx: Chunks;
  readonly parameters: number;
  readonly classes: number;
  readonly inputSize: number;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** IEEE 754 binary16 bits of a float (round to nearest even). */
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

export function toHalf(value: number): number {
  scratch[0] = value;
  const bits = scratchBits[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  e = half >>> 10;
  return sign | half;
}

class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  parameters = 0;
  #counter = 0;
  readonly #random: () => number;
  readonly #storage: WeightStorage;

  constructor(seed: number, storage: WeightStorage) {
    this.#random = mulberry32(seed);
    this.#storage = storage;
  }

  name(prefix: string): string {
    this.#counter += 1;
    return `${prefix}_${this.#counter}`;
  }

  /** Uniform in [-limit, limit). */
  uniform(count: number, limit: number): Float32Array {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = (this.#random() * 2 - 1) * limit;
    return values;
  }

  /**
   * A weight tensor in the chosen storage; returns the name of a float32 value. Narrow storage adds
   * Cast (and, for int8, Mul by per-output-channel scales) on the constant, which onnxruntime folds.
   */
  weight(name: string, dims: readonly number[], values: Float32Array): string {
    this.parameters += values.length;
    if (this.#storage === 'float32') {
      this.initializers.push(floatTensor(name, dims, values));
      return name;
    }
    if (this.#storage === 'float16') {
      const raw = Buffer.alloc(values.length * 2);
      for (let i = 0; i < values.length; i++) raw.writeUInt16LE(toHalf(values[i] ?? 0), i * 2);
      this.initializers.push({ name: `${name}_f16`, dataType: DataType.FLOAT16, dims, raw });
      this.nodes.push({ opType: 'Cast', inputs: [`${name}_f16`], outputs: [name], name: `${name}_widen`, attributes: { to: attr.int(DataType.FLOAT) } });
      return name;
    }
    // int8, symmetric, one scale per output channel (dims[0]).
    const channels = dims[0] ?? 1;
    const perChannel = values.length / channels;
    const raw = Buffer.alloc(values.length);
    const scales = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      let max = 0;
      for (let i = 0; i < perChannel; i++) max = Math.max(max, Math.abs(values[c * perChannel + i] ?? 0));
      const scale = max === 0 ? 1 : max / 127;
      scales[c] = scale;
      for (let i = 0; i < perChannel; i++) raw.writeInt8(Math.round((values[c * perChannel + i] ?? 0) / scale), c * perChannel + i);
    }
    const scaleDims = [channels, ...dims.slice(1).map(() => 1)];
    this.initializers.push({ name: `${name}_i8`, dataType: DataType.INT8, dims, raw });
    this.initializers.push(floatTensor(`${name}_scale`, scaleDims, scales));
    this.nodes.push({ opType: 'Cast', inputs: [`${name}_i8`], outputs: [`${name}_wide`], name: `${name}_widen`, attributes: { to: attr.int(DataType.FLOAT) } });
    this.nodes.push({ opType: 'Mul', inputs: [`${name}_wide`, `${name}_scale`], outputs: [name], name: `${name}_rescale` });
    return name;
  }

  /** Conv (batch-norm folded in: weights and bias) + optional Relu; He-uniform weights. */
  conv(input: string, inChannels: number, outChannels: number, kernel: number, stride: number, relu: boolean, gain = 1): string {
    const id = this.name('conv');
    const fanIn = inChannels * kernel * kernel;
    const w = this.weight(`${id}_W`, [outChannels, inChannels, kernel, kernel], this.uniform(outChannels * fanIn, gain * Math.sqrt(6 / fanIn)));
    const bias = `${id}_B`;
    this.initializers.push(floatTensor(bias, [outChannels], this.uniform(outChannels, 0.01)));
    this.parameters += outChannels;
    const pad = Math.floor(kernel / 2);
    const out = relu ? `${id}_pre` : `${id}_out`;
    this.nodes.push({
      opType: 'Conv',
      inputs: [input, w, bias],
      outputs: [out],
      name: id,
      attributes: {
        kernel_shape: attr.ints([kernel, kernel]),
        strides: attr.ints([stride, stride]),
        pads: attr.ints([pad, pad, pad, pad]),
      },
    });
    if (!relu) return out;
    this.nodes.push({ opType: 'Relu', inputs: [out], outputs: [`${id}_out`], name: `${id}_relu` });
    return `${id}_out`;
  }

  add(a: string, b: string, relu: boolean): string {
    const id = this.name('add');
    this.nodes.push({ opType: 'Add', inputs: [a, b], outputs: [`${id}_sum`], name: id });
    if (!relu) return `${id}_sum`;
    this.nodes.push({ opType: 'Relu', inputs: [`${id}_sum`], outputs: [`${id}_out`], name: `${id}_relu` });
    return `${id}_out`;
  }
}

/** Builds the benchmark model. About 23.9 M parameters (≈ 95 MB as float32) with the defaults. */
export function buildResNet(options: ResNetOptions = {}): ResNetModel {
  const classes = options.classes ?? 200;
  const inputSize = options.inputSize ?? 448;
  const blocks = options.blocks ?? [3, 4, 6, 3];
  const g = new GraphBuilder(options.seed ?? 50, options.storage ?? 'float32');

  let x = g.conv('image', 3, 64, 7, 2, true);
  g.nodes.push({
    opType: 'MaxPool',
    inputs: [x],
    outputs: ['stem_pool'],
    name: 'stem_pool',
    attributes: { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) },
  });
  x = 'stem_pool';
  let channels = 64;
  const widths = [64, 128, 256, 512] as const;
  for (let stage = 0; stage < 4; stage++) {
    const width = widths[stage] ?? 64;
    const out = width * 4;
    for (let block = 0; block < (blocks[stage] ?? 0); block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      const a = g.conv(x, channels, width, 1, 1, true);
      const b = g.conv(a, width, width, 3, stride, true);
      // The residual branch's last conv starts small (like zero-init-residual) so 16 blocks of
      // random weights keep activations finite.
      const c = g.conv(b, width, out, 1, 1, false, 0.2);
      const shortcut = block === 0 ? g.conv(x, channels, out, 1, stride, false) : x;
      x = g.add(c, shortcut, true);
      channels = out;
    }
  }
  g.nodes.push({ opType: 'GlobalAveragePool', inputs: [x], outputs: ['pooled'], name: 'pool' });
  g.initializers.push(int64Tensor('flat_shape', [2], [0, -1]));
  g.nodes.push({ opType: 'Reshape', inputs: ['pooled', 'flat_shape'], outputs: ['features'], name: 'flatten' });
  const fcW = g.weight('fc_W', [classes, channels], g.uniform(classes * channels, Math.sqrt(6 / channels)));
  g.initializers.push(floatTensor('fc_B', [classes], g.uniform(classes, 0.01)));
  g.parameters += classes;
  g.nodes.push({ opType: 'Gemm', inputs: ['features', fcW, 'fc_B'], outputs: ['logits'], name: 'fc', attributes: { transB: attr.int(1) } });

  const onnx = encodeModel({
    graphName: 'resnet50-shaped',
    docString: `ResNet-50-shaped benchmark graph with random weights (${options.storage ?? 'float32'} storage); not a trained model.`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'image', elemType: DataType.FLOAT, shape: [1, 3, inputSize, inputSize] }],
    outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: [1, classes] }],
  });
  return { onnx, parameters: g.parameters, classes, inputSize };
}
