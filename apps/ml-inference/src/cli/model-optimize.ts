#!/usr/bin/env node
// pnpm --filter @lambda-efs/ml-inference model:optimize --name <name> --version <version> [--models-dir <dir>]
//
// Adds optimized/<key>.onnx for this machine's CPU class to an installed release. The function
// logs `"optimized":"miss"` and the key it looked for when its CPU class has none; run this on a
// machine of that class (same onnxruntime-node version) that mounts the file system.
import { parseArgs } from 'node:util';

import { loadNativeLibraries } from '../core/native.js';
import { InstallError, optimizeRelease } from '../install/install.js';
import { modelsDirFrom, runMain } from './shared.js';

runMain(async () => {
  const { values } = parseArgs({ options: { name: { type: 'string' }, version: { type: 'string' }, 'models-dir': { type: 'string' } } });
  if (values.name === undefined || values.version === undefined) {
    throw new InstallError('Usage: model:optimize --name <name> --version <version> [--models-dir <dir>]');
  }
  const { ort, versions } = loadNativeLibraries({ nodeModulesDir: undefined });
  const file = await optimizeRelease({ modelsDir: modelsDirFrom(values['models-dir']), name: values.name, version: values.version, ort, ortVersion: versions.onnxruntime });
  process.stdout.write(`Wrote ${file} for ${values.name} ${values.version}\n`);
});
