// Writes a generated model as a source directory for model:install: model.onnx, labels.txt and
// model.json.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { calibrateResNet, calibrationInputs, type Ort } from './calibrate.js';
import { buildDemoModel } from './demo-model.js';
import { modelJsonText, type ModelJson } from './model-json.js';
import type { Chunks } from './proto.js';
import { buildResNet, type WeightStorage } from './resnet.js';

export type GeneratedKind = 'demo' | 'resnet50';

export interface GeneratedModel {
  readonly dir: string;
  readonly modelBytes: number;
  readonly labels: number;
  readonly parameters?: number;
}

/** Writes encoded chunks to a file without concatenating them first. */
export async function writeChunks(path: string, chunks: Chunks): Promise<void> {
  const handle = await open(path, 'w', 0o644);
  try {
    // writev in batches: a 100 MB model is tens of thousands of small chunks.
    for (let i = 0; i < chunks.parts.length; i += 512) await handle.writev(chunks.parts.slice(i, i + 512));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeSource(dir: string, onnx: Chunks, labels: string, config: ModelJson): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeChunks(join(dir, 'model.onnx'), onnx);
  await writeFile(join(dir, 'labels.txt'), labels, { mode: 0o644 });
  await writeFile(join(dir, 'model.json'), modelJsonText(config), { mode: 0o644 });
}

/** The demo model (dominant colour) as a model:install source directory. */
export async function writeDemoModel(dir: string, options: Parameters<typeof buildDemoModel>[0] = {}): Promise<GeneratedModel> {
  const demo = buildDemoModel(options);
  await writeSource(dir, demo.onnx, demo.labels, demo.config);
  return { dir, modelBytes: demo.onnx.length, labels: demo.labels.trimEnd().split('\n').length };
}

/** Calibration inputs for the int8-qdq benchmark model (each one float32 inference at 448×448). */
export const CALIBRATION_INPUTS = 8;

/**
 * The ResNet-50-shaped benchmark model (random weights) as a model:install source directory.
 * `int8-qdq` is calibrated on the float32 model first, which needs onnxruntime (`ort`).
 */
export async function writeResNetModel(dir: string, storage: WeightStorage = 'float32', ort?: Ort): Promise<GeneratedModel> {
  let model;
  if (storage === 'int8-qdq') {
    if (ort === undefined) throw new Error('Generating an int8-qdq model calibrates it with onnxruntime: pass ort.');
    const activationRanges = await calibrateResNet(ort, {}, calibrationInputs(CALIBRATION_INPUTS, 448));
    model = buildResNet({ storage, activationRanges });
  } else {
    model = buildResNet({ storage });
  }
  const labels = Array.from({ length: model.classes }, (_, i) => `${String(i + 1).padStart(3, '0')}.class_${i + 1}`).join('\n');
  const kind = storage === 'int8-qdq' ? 'statically quantized to int8 (QDQ, min-max calibration)' : `${storage} weight storage`;
  // The post's preprocessing (model.json's defaults) and a model that outputs logits.
  await writeSource(dir, model.onnx, `${labels}\n`, {
    input: 'image',
    output: 'logits',
    softmax: true,
    description: `ResNet-50-shaped benchmark model, random weights, ${kind} (not a trained model).`,
  });
  return { dir, modelBytes: model.onnx.length, labels: model.classes, parameters: model.parameters };
}
