#!/usr/bin/env node
// pnpm --filter @lambda-efs/ml-inference model:generate --kind demo|resnet50 --out <dir> [--storage float32|float16|int8|int8-qdq]
//
// Writes a generated model as a model:install source directory (model.onnx, labels.txt,
// model.json). Nothing is downloaded: the graphs are written protobuf by protobuf (@lambda-efs/onnx-models).
import { parseArgs } from 'node:util';

import { CALIBRATION_INPUTS, writeDemoModel, writeResNetModel, type WeightStorage } from '@lambda-efs/onnx-models';

import { InstallError } from '../install/install.js';
import { formatBytes } from '../install/progress.js';
import { loadNativeLibraries } from '../core/native.js';
import { runMain, userPath } from './shared.js';

const USAGE = `Usage: model:generate --kind demo|resnet50 --out <dir> [--storage float32|float16|int8|int8-qdq]

  demo       the demo model: the dominant colour of an image (8 labels, a few hundred bytes)
  resnet50   the benchmark model: ResNet-50-shaped, 200 classes, 448×448, random weights
             (float32 ≈ 96 MB, float16 ≈ 48 MB, int8 ≈ 24 MB of weights; all three infer in
             float32). int8-qdq ≈ 26 MB is statically quantized: it infers in int8, after a
             calibration of the float32 model on ${CALIBRATION_INPUTS} generated images.
`;

const STORAGES: readonly WeightStorage[] = ['float32', 'float16', 'int8', 'int8-qdq'];

runMain(async () => {
  const { values } = parseArgs({
    options: { kind: { type: 'string' }, out: { type: 'string' }, storage: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.out === undefined || (values.kind !== 'demo' && values.kind !== 'resnet50'))
    throw new InstallError(`--kind and --out are required.\n\n${USAGE}`);
  const storage = STORAGES.find((name) => name === (values.storage ?? 'float32'));
  if (storage === undefined) throw new InstallError(`--storage must be one of ${STORAGES.join(', ')}.`);
  const startedAt = performance.now();
  const out = userPath(values.out);
  const ort = storage === 'int8-qdq' ? loadNativeLibraries({ nodeModulesDir: undefined }).ort : undefined;
  const result = values.kind === 'demo' ? await writeDemoModel(out) : await writeResNetModel(out, storage, ort);
  process.stdout.write(
    `Wrote ${values.kind}${values.kind === 'resnet50' ? ` (${storage})` : ''} to ${result.dir}: model.onnx ${formatBytes(result.modelBytes)}, ` +
      `${result.labels} labels${result.parameters === undefined ? '' : `, ${result.parameters.toLocaleString('en-US')} parameters`} ` +
      `in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`,
  );
});
