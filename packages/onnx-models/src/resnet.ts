// A ResNet-50-shaped ONNX graph with random weights, for benchmarks: the post's model is a
// ResNet-50 backbone (NTS-Net) at 448×448 with 200 bird classes. Batch-norm is folded into the
// convolutions' weights and biases, as torch.onnx.export does for a model in eval mode.
//
// Weight storage can be float32 (the reference), float16 or int8 (per-output-channel scales):
// the narrower ones are stored narrow and widened by Cast (and Mul) nodes on constant inputs,
// which onnxruntime folds when it loads the model. Inference then runs in float32 exactly as
// before; what changes is the bytes read from the file system at every cold start.
//
// `int8-qdq` is different: the model is statically quantized, as onnxruntime's quantize_static
// writes a trained one (QDQ format). Weights are int8 with per-output-channel scales, biases
// int32, and every activation passes a QuantizeLinear/DequantizeLinear pair whose uint8 scale
// comes from calibration (the float32 model's ranges on sample inputs, see calibrate.ts).
// onnxruntime fuses each DequantizeLinear → Conv → QuantizeLinear into an int8 QLinearConv, so
// inference itself runs in int8 (VNNI/AMX where the CPU has them).
import { DataType, attr, encodeModel, floatTensor, int64Tensor, type Chunks, type NodeSpec, type TensorSpec } from './proto.js';

export type WeightStorage = 'float32' | 'float16' | 'int8' | 'int8-qdq';

/** The range of one activation over the calibration inputs. */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

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
  /** Calibration: also output every activation that int8-qdq quantizes (float32 only). */
  readonly exposeActivations?: boolean;
  /** int8-qdq only, required: each quantized activation's range, by its name in `activations`. */
  readonly activationRanges?: ReadonlyMap<string, ActivationRange>;
}

export interface ResNetModel {
  readonly onnx: Chunks;
  readonly parameters: number;
  readonly classes: number;
  readonly inputSize: number;
  /** The activations int8-qdq quantizes (the graph input `image` first), in graph order. */
  readonly activations: readonly string[];
}

/** uint8 quantization of a range (asymmetric; zero stays exactly representable, as ONNX needs). */
export function uint8Quantization(range: ActivationRange): { readonly scale: number; readonly zeroPoint: number } {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  if (!(max > min)) return { scale: 1, zeroPoint: 0 };
  const scale = (max - min) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
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

/** Symmetric int8 quantization with one scale per output channel (the first dimension). */
function quantizePerChannel(dims: readonly number[], values: Float32Array): { raw: Buffer; scales: Float32Array } {
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
  return { raw, scales };
}

class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  /** Activations a quantized model quantizes, by their float32 names. */
  readonly activations: string[] = [];
  parameters = 0;
  #counter = 0;
  readonly #random: () => number;
  readonly #storage: WeightStorage;
  readonly #ranges: ReadonlyMap<string, ActivationRange> | undefined;
  // int8-qdq: the uint8 scale of each dequantized activation, for the int32 biases that read it.
  readonly #scaleOf = new Map<string, number>();

  constructor(seed: number, storage: WeightStorage, ranges: ReadonlyMap<string, ActivationRange> | undefined) {
    this.#random = mulberry32(seed);
    this.#storage = storage;
    this.#ranges = ranges;
  }

  /**
   * Marks a point where a quantized model quantizes the activation `name`. For int8-qdq it adds
   * QuantizeLinear → DequantizeLinear with the calibrated range and returns the dequantized name;
   * otherwise it returns `name` as is.
   */
  activation(name: string): string {
    this.activations.push(name);
    if (this.#storage !== 'int8-qdq') return name;
    const range = this.#ranges?.get(name);
    if (range === undefined) throw new Error(`No calibrated range for activation ${name}.`);
    const { scale, zeroPoint } = uint8Quantization(range);
    this.initializers.push(floatTensor(`${name}_qscale`, [], [scale]));
    this.initializers.push({ name: `${name}_qzero`, dataType: DataType.UINT8, dims: [], raw: Uint8Array.of(zeroPoint) });
    const params = [`${name}_qscale`, `${name}_qzero`];
    this.nodes.push({ opType: 'QuantizeLinear', inputs: [name, ...params], outputs: [`${name}_q`], name: `${name}_quantize` });
    this.nodes.push({ opType: 'DequantizeLinear', inputs: [`${name}_q`, ...params], outputs: [`${name}_dq`], name: `${name}_dequantize` });
    this.#scaleOf.set(`${name}_dq`, scale);
    return `${name}_dq`;
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
   * A weight tensor in the model's storage (or `storage`); returns the name of a float32 value.
   * Narrow storage adds Cast (and, for int8, Mul by per-output-channel scales) on the constant, which
   * onnxruntime folds; int8-qdq a DequantizeLinear that onnxruntime fuses into the conv.
   */
  weight(name: string, dims: readonly number[], values: Float32Array, storage: WeightStorage = this.#storage): string {
    this.parameters += values.length;
    if (storage === 'float32') {
      this.initializers.push(floatTensor(name, dims, values));
      return name;
    }
    if (storage === 'float16') {
      const raw = Buffer.alloc(values.length * 2);
      for (let i = 0; i < values.length; i++) raw.writeUInt16LE(toHalf(values[i] ?? 0), i * 2);
      this.initializers.push({ name: `${name}_f16`, dataType: DataType.FLOAT16, dims, raw });
      this.nodes.push({
        opType: 'Cast',
        inputs: [`${name}_f16`],
        outputs: [name],
        name: `${name}_widen`,
        attributes: { to: attr.int(DataType.FLOAT) },
      });
      return name;
    }
    // int8, symmetric, one scale per output channel (dims[0]).
    const { raw, scales } = quantizePerChannel(dims, values);
    const channels = dims[0] ?? 1;
    if (storage === 'int8-qdq') {
      // Left for onnxruntime's QDQ fusion to take (DequantizeLinear → Conv → QuantizeLinear).
      this.#dequantizePerChannel(name, { name: `${name}_i8`, dataType: DataType.INT8, dims, raw }, scales);
      this.#weightScales.set(name, scales);
      return name;
    }
    const scaleDims = [channels, ...dims.slice(1).map(() => 1)];
    this.initializers.push({ name: `${name}_i8`, dataType: DataType.INT8, dims, raw });
    this.initializers.push(floatTensor(`${name}_scale`, scaleDims, scales));
    this.nodes.push({
      opType: 'Cast',
      inputs: [`${name}_i8`],
      outputs: [`${name}_wide`],
      name: `${name}_widen`,
      attributes: { to: attr.int(DataType.FLOAT) },
    });
    this.nodes.push({ opType: 'Mul', inputs: [`${name}_wide`, `${name}_scale`], outputs: [name], name: `${name}_rescale` });
    return name;
  }

  readonly #weightScales = new Map<string, Float32Array>();

  /** A conv bias: float32, or for int8-qdq int32 at the input's scale × each weight scale. */
  bias(name: string, input: string, weight: string, values: Float32Array): string {
    this.parameters += values.length;
    const weightScales = this.#weightScales.get(weight);
    const inputScale = this.#scaleOf.get(input);
    if (weightScales === undefined || inputScale === undefined) {
      this.initializers.push(floatTensor(name, [values.length], values));
      return name;
    }
    const scales = weightScales.map((scale) => scale * inputScale);
    const quantized = new Int32Array(values.length);
    for (let c = 0; c < values.length; c++) quantized[c] = Math.round((values[c] ?? 0) / (scales[c] as number));
    this.#dequantizePerChannel(
      name,
      { name: `${name}_i32`, dataType: DataType.INT32, dims: [values.length], raw: new Uint8Array(quantized.buffer) },
      scales,
    );
    return name;
  }

  /** `name` = DequantizeLinear of the constant `quantized`, one scale per output channel, zero points 0. */
  #dequantizePerChannel(name: string, quantized: TensorSpec, scales: Float32Array): void {
    const zeroPointBytes = quantized.dataType === DataType.INT32 ? 4 : 1;
    this.initializers.push(quantized);
    this.initializers.push(floatTensor(`${name}_scale`, [scales.length], scales));
    this.initializers.push({
      name: `${name}_zero`,
      dataType: quantized.dataType,
      dims: [scales.length],
      raw: new Uint8Array(scales.length * zeroPointBytes),
    });
    this.nodes.push({
      opType: 'DequantizeLinear',
      inputs: [quantized.name, `${name}_scale`, `${name}_zero`],
      outputs: [name],
      name: `${name}_dequantize`,
      attributes: { axis: attr.int(0) },
    });
  }

  /**
   * Conv (batch-norm folded in: weights and bias) + optional Relu; He-uniform weights. The output
   * is an activation point (see {@link activation}).
   */
  conv(input: string, inChannels: number, outChannels: number, kernel: number, stride: number, relu: boolean, gain = 1): string {
    const id = this.name('conv');
    const fanIn = inChannels * kernel * kernel;
    const w = this.weight(
      `${id}_W`,
      [outChannels, inChannels, kernel, kernel],
      this.uniform(outChannels * fanIn, gain * Math.sqrt(6 / fanIn)),
    );
    const bias = this.bias(`${id}_B`, input, w, this.uniform(outChannels, 0.01));
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
    if (relu) this.nodes.push({ opType: 'Relu', inputs: [out], outputs: [`${id}_out`], name: `${id}_relu` });
    return this.activation(`${id}_out`);
  }

  add(a: string, b: string, relu: boolean): string {
    const id = this.name('add');
    const sum = relu ? `${id}_sum` : `${id}_out`;
    this.nodes.push({ opType: 'Add', inputs: [a, b], outputs: [sum], name: id });
    if (relu) this.nodes.push({ opType: 'Relu', inputs: [sum], outputs: [`${id}_out`], name: `${id}_relu` });
    return this.activation(`${id}_out`);
  }
}

/** Builds the benchmark model. About 23.9 M parameters (≈ 95 MB as float32) with the defaults. */
export function buildResNet(options: ResNetOptions = {}): ResNetModel {
  const classes = options.classes ?? 200;
  const inputSize = options.inputSize ?? 448;
  const blocks = options.blocks ?? [3, 4, 6, 3];
  const storage = options.storage ?? 'float32';
  if (storage === 'int8-qdq' && options.activationRanges === undefined) {
    throw new Error('An int8-qdq model needs activationRanges: calibrate the float32 model first (calibrateResNet).');
  }
  if (options.exposeActivations === true && storage !== 'float32') throw new Error('exposeActivations is for the float32 model.');
  const g = new GraphBuilder(options.seed ?? 50, storage, options.activationRanges);

  let x = g.conv(g.activation('image'), 3, 64, 7, 2, true);
  g.nodes.push({
    opType: 'MaxPool',
    inputs: [x],
    outputs: ['stem_pool'],
    name: 'stem_pool',
    attributes: { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) },
  });
  x = g.activation('stem_pool');
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
  const pooled = g.activation('pooled');
  g.initializers.push(int64Tensor('flat_shape', [2], [0, -1]));
  g.nodes.push({ opType: 'Reshape', inputs: [pooled, 'flat_shape'], outputs: ['features'], name: 'flatten' });
  // The classifier is 2% of the weights and a rounding error of the time: int8-qdq keeps it float32,
  // as quantizers commonly keep the last layer.
  const fcValues = g.uniform(classes * channels, Math.sqrt(6 / channels));
  const fcW = g.weight('fc_W', [classes, channels], fcValues, storage === 'int8-qdq' ? 'float32' : storage);
  g.initializers.push(floatTensor('fc_B', [classes], g.uniform(classes, 0.01)));
  g.parameters += classes;
  g.nodes.push({ opType: 'Gemm', inputs: ['features', fcW, 'fc_B'], outputs: ['logits'], name: 'fc', attributes: { transB: attr.int(1) } });

  const exposed = options.exposeActivations === true ? g.activations.filter((name) => name !== 'image') : [];
  const onnx = encodeModel({
    graphName: 'resnet50-shaped',
    docString: `ResNet-50-shaped benchmark graph with random weights (${storage === 'int8-qdq' ? 'statically quantized to int8, QDQ' : `${storage} storage`}); not a trained model.`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'image', elemType: DataType.FLOAT, shape: [1, 3, inputSize, inputSize] }],
    outputs: [
      { name: 'logits', elemType: DataType.FLOAT, shape: [1, classes] },
      // Shapes left symbolic: only calibration reads these.
      ...exposed.map((name) => ({ name, elemType: DataType.FLOAT, shape: ['n', 'c', 'h', 'w'] })),
    ],
  });
  return { onnx, parameters: g.parameters, classes, inputSize, activations: [...g.activations] };
}
