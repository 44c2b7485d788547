// The generated models are real ONNX graphs: onnxruntime loads them, and the demo's answers are
// the ones its construction promises (checked against plain arithmetic).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { calibrateResNet, calibrationInputs, type Ort } from '../../src/calibrate.js';
import { buildDemoModel, demoExpectedProbabilities, DEMO_LABELS } from '../../src/demo-model.js';
import { Chunks, MessageWriter, encodeModel, DataType, floatTensor } from '../../src/proto.js';
import { modelJsonText } from '../../src/model-json.js';
import { buildResNet, mulberry32, toHalf, uint8Quantization } from '../../src/resnet.js';
import { writeDemoModel, writeResNetModel } from '../../src/write-model.js';

/** onnxruntime-node from this package's devDependencies (a CommonJS module). */
function libraries(): { ort: Ort } {
  return { ort: createRequire(import.meta.url)('onnxruntime-node') as Ort };
}

describe('protobuf encoding', () => {
  it('encodes varints, negative int64s and nested lengths as protobuf does', () => {
    const inner = new MessageWriter().int(1, 300);
    const outer = new MessageWriter().int(2, -1).message(3, inner).string(4, 'hi');
    expect([...outer.chunks.toBuffer()]).toEqual([
      0x10,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01, // field 2 varint -1 (10 bytes)
      0x1a,
      0x03,
      0x08,
      0xac,
      0x02, // field 3 length 3: field 1 varint 300
      0x22,
      0x02,
      0x68,
      0x69, // field 4 "hi"
    ]);
  });

  it('keeps chunks and their total length', () => {
    const chunks = new Chunks();
    chunks.push(Buffer.from([1, 2]));
    chunks.push(Buffer.alloc(0));
    chunks.push(Buffer.from([3]));
    expect(chunks.length).toBe(3);
    expect([...chunks.toBuffer()]).toEqual([1, 2, 3]);
  });

  it('encodes half floats with round-to-nearest-even', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(0)).toBe(0);
    expect(toHalf(5.960464477539063e-8)).toBe(1);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00);
  });

  it('produces a graph onnxruntime runs (Add of an input and a constant)', async () => {
    const bytes = encodeModel({
      graphName: 'add',
      nodes: [{ opType: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
      initializers: [floatTensor('c', [2], [10, 20])],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [2] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [2] }],
    }).toBuffer();
    const { ort } = libraries();
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) });
    expect([...(out['y']?.data as Float32Array)]).toEqual([11, 22]);
    await session.release();
  });
});

describe('the demo model', () => {
  it.each([
    [[1, 0, 0], 'red'],
    [[0, 1, 0], 'green'],
    [[0, 0, 1], 'blue'],
    [[1, 1, 0], 'yellow'],
    [[0.9, 0.9, 0.95], 'white'],
    [[0.1, 0.05, 0.1], 'black'],
    [[0.1, 0.8, 0.9], 'cyan'],
    [[0.8, 0.1, 0.7], 'magenta'],
  ] as const)('answers the nearest cube corner for the mean colour %j (%s), with the promised probabilities', async (colour, label) => {
    const { ort } = libraries();
    const demo = buildDemoModel({ crop: 8, resize: 8 });
    const session = await ort.InferenceSession.create(demo.onnx.toBuffer());
    // A uniform image of that colour, normalized as the preprocessing does.
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const data = new Float32Array(3 * 8 * 8);
    for (let c = 0; c < 3; c++) data.fill(((colour[c] as number) - (mean[c] as number)) / (std[c] as number), c * 64, (c + 1) * 64);
    const out = (await session.run({ image: new ort.Tensor('float32', data, [1, 3, 8, 8]) }))['probabilities']?.data as Float32Array;
    const expected = demoExpectedProbabilities(colour);
    expect(DEMO_LABELS[out.indexOf(Math.max(...out))]).toBe(label);
    out.forEach((p, i) => expect(p).toBeCloseTo(expected[i] as number, 5));
    await session.release();
  });
});

describe('the benchmark model builder', () => {
  it('builds a small ResNet-shaped graph that onnxruntime runs, the same bytes every time', async () => {
    const { ort } = libraries();
    const options = { classes: 10, inputSize: 64, blocks: [1, 1, 1, 1] as const };
    const model = buildResNet(options);
    expect(model.onnx.toBuffer().equals(buildResNet(options).onnx.toBuffer())).toBe(true);
    const session = await ort.InferenceSession.create(model.onnx.toBuffer());
    const input = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i));
    const out = (await session.run({ image: new ort.Tensor('float32', input, [1, 3, 64, 64]) }))['logits']?.data as Float32Array;
    expect(out.length).toBe(10);
    expect([...out].every(Number.isFinite)).toBe(true);
    await session.release();
  });

  it('stores weights as float16 or int8 that widen to nearly the same answers', async () => {
    const { ort } = libraries();
    const input = new Float32Array(3 * 64 * 64).map((_, i) => Math.cos(i / 3));
    const run = async (storage: 'float32' | 'float16' | 'int8'): Promise<{ out: Float32Array; bytes: number }> => {
      const model = buildResNet({ classes: 10, inputSize: 64, blocks: [1, 1, 1, 1], storage });
      const session = await ort.InferenceSession.create(model.onnx.toBuffer());
      const out = (await session.run({ image: new ort.Tensor('float32', input, [1, 3, 64, 64]) }))['logits']?.data as Float32Array;
      await session.release();
      return { out, bytes: model.onnx.length };
    };
    const [f32, f16, i8] = [await run('float32'), await run('float16'), await run('int8')];
    expect(f16.bytes).toBeLessThan(f32.bytes * 0.55);
    expect(i8.bytes).toBeLessThan(f32.bytes * 0.3);
    const worst = (a: Float32Array, b: Float32Array): number => Math.max(...[...a].map((v, i) => Math.abs(v - (b[i] as number))));
    const scale = Math.max(...[...f32.out].map(Math.abs));
    expect(worst(f32.out, f16.out) / scale).toBeLessThan(0.01);
    expect(worst(f32.out, i8.out) / scale).toBeLessThan(0.1);
  });

  it('quantizes statically to int8 (QDQ): onnxruntime runs every conv as QLinearConv, with float32’s answers within 10%', async () => {
    const { ort } = libraries();
    const options = { classes: 10, inputSize: 64, blocks: [1, 1, 1, 1] as const };
    const activationRanges = await calibrateResNet(ort, options, calibrationInputs(8, 64));
    const float32 = buildResNet(options);
    expect([...activationRanges.keys()]).toEqual(float32.activations);
    // After a ReLU the range starts at 0, so the uint8 zero point is 0 (onnxruntime then drops the ReLU).
    expect(uint8Quantization(activationRanges.get('conv_1_out') ?? { min: -1, max: 1 }).zeroPoint).toBe(0);
    const quantized = buildResNet({ ...options, storage: 'int8-qdq', activationRanges });
    expect(quantized.onnx.length).toBeLessThan(float32.onnx.length * 0.35);

    const dir = await mkdtemp(join(tmpdir(), 'qdq-'));
    try {
      const optimized = join(dir, 'optimized.onnx');
      const session = await ort.InferenceSession.create(quantized.onnx.toBuffer(), {
        graphOptimizationLevel: 'all',
        optimizedModelFilePath: optimized,
      });
      const reference = await ort.InferenceSession.create(float32.onnx.toBuffer());
      // 1 stem conv + 4 blocks × (3 convs + 1 projection shortcut): all fused into int8 convs.
      const fused = (await readFile(optimized)).toString('latin1');
      expect(fused.split('QLinearConv').length - 1).toBe(17);
      let worst = 0;
      for (const input of calibrationInputs(6, 64, 99)) {
        const feed = { image: new ort.Tensor('float32', input, [1, 3, 64, 64]) };
        const q = (await session.run(feed))['logits']?.data as Float32Array;
        const f = (await reference.run(feed))['logits']?.data as Float32Array;
        const scale = Math.max(...[...f].map(Math.abs));
        worst = Math.max(worst, ...[...f].map((v, i) => Math.abs(v - (q[i] as number)) / scale));
        // Random weights make near ties: int8's top class is float32's, or within 5% of it there.
        const top = q.indexOf(Math.max(...q));
        expect((Math.max(...f) - (f[top] as number)) / scale).toBeLessThan(0.05);
      }
      // Each logit within 10% of the largest (measured here: 3%).
      expect(worst).toBeLessThan(0.1);
      await session.release();
      await reference.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('quantizes a range to uint8 with zero exactly representable', () => {
    expect(uint8Quantization({ min: -1, max: 1 })).toEqual({ scale: 2 / 255, zeroPoint: 128 });
    // A range that excludes zero is widened to include it (ONNX pads with the zero point).
    expect(uint8Quantization({ min: 2, max: 5 })).toEqual({ scale: 5 / 255, zeroPoint: 0 });
    expect(uint8Quantization({ min: -3, max: -1 })).toEqual({ scale: 3 / 255, zeroPoint: 255 });
    // An activation that was always 0 (a dead channel set) still gets a valid scale.
    expect(uint8Quantization({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('refuses to build int8-qdq without calibrated ranges, naming what to do', () => {
    expect(() => buildResNet({ storage: 'int8-qdq' })).toThrow(/calibrate the float32 model first/);
  });

  it('has a deterministic PRNG', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});

describe('model:install source directories', () => {
  it('writes the demo model: the built graph, one label a line, model.json with every field explicit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onnx-models-demo-'));
    try {
      const written = await writeDemoModel(dir);
      expect(written).toEqual({ dir, modelBytes: buildDemoModel().onnx.length, labels: DEMO_LABELS.length });
      expect(await readFile(join(dir, 'model.onnx'))).toEqual(buildDemoModel().onnx.toBuffer());
      expect(await readFile(join(dir, 'labels.txt'), 'utf8')).toBe(`${DEMO_LABELS.join('\n')}\n`);
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(json)).toEqual([
        'input',
        'layout',
        'resize',
        'crop',
        'interpolation',
        'mean',
        'std',
        'softmax',
        'background',
        'description',
        'output',
      ]);
      expect(json).toMatchObject({
        input: 'image',
        output: 'probabilities',
        softmax: false,
        background: [255, 255, 255],
        crop: { width: 448, height: 448 },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an int8-qdq benchmark model without onnxruntime to calibrate with', async () => {
    await expect(writeResNetModel(join(tmpdir(), 'never-written'), 'int8-qdq')).rejects.toThrow(/pass ort/);
  });

  it("fills the post's preprocessing into model.json for the fields left out, and leaves out input and output when unnamed", () => {
    const json = JSON.parse(modelJsonText({ description: 'x' })) as Record<string, unknown>;
    expect(json).toEqual({
      layout: 'NCHW',
      resize: { width: 600, height: 600 },
      crop: { width: 448, height: 448 },
      interpolation: 'bilinear',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      softmax: true,
      background: [255, 255, 255],
      description: 'x',
    });
  });
});
