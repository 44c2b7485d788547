// Writes a generated model as a source directory for model:install: model.onnx, labels.txt and
// model.json.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DEFAULT_MODEL_CONFIG, resolveModelConfig, serializeModelConfig, type ModelConfigFile } from '../core/model-config.js';
import { buildDemoModel } from './demo-model.js';
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

async function writeSource(dir: string, onnx: Chunks, labels: string, config: ModelConfigFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeChunks(join(dir, 'model.onnx'), onnx);
  await writeFile(join(dir, 'labels.txt'), labels, { mode: 0o644 });
  await writeFile(join(dir, 'model.json'), serializeModelConfig(resolveModelConfig(config, 'generated model')), { mode: 0o644 });
}

/** The demo model (dominant colour) as a model:install source directory. */
export async function writeDemoModel(dir: string, options: Parameters<typeof buildDemoModel>[0] = {}): Promise<GeneratedModel> {
  const demo = buildDemoModel(options);
  await writeSource(dir, demo.onnx, demo.labels, demo.config);
  return { dir, modelBytes: demo.onnx.length, labels: demo.labels.trimEnd().split('\n').length };
}

/** The ResNet-50-shaped benchmark model (random weights) as a model:install source directory. */
export async function writeResNetModel(dir: string, storage: WeightStorage = 'float32'): Promise<GeneratedModel> {
  const model = buildResNet({ storage });
  const labels = Array.from({ length: model.classes }, (_, i) => `${String(i + 1).padStart(3, '0')}.class_${i + 1}`).join('\n');
  // The post's preprocessing (the defaults) and a model that outputs logits.
  const { input: _input, output: _output, ...post } = DEFAULT_MODEL_CONFIG;
  await writeSource(dir, model.onnx, `${labels}\n`, {
    ...post,
    input: 'image',
    output: 'logits',
    softmax: true,
    description: `ResNet-50-shaped benchmark model, random weights, ${storage} weight storage (not a trained model).`,
  });
  return { dir, modelBytes: model.onnx.length, labels: model.classes, parameters: model.parameters };
}
