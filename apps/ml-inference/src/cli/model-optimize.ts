#!/usr/bin/env node
// pnpm --filter @lambda-efs/ml-inference model:optimize --name <name> --version <version> [--models-dir <dir>]
//
// Adds (or replaces) optimized/<key>/ for this machine's CPU class in an installed release. The
// function writes a missing entry itself at its first cold start; when the release is read-only
// for it, it logs `"optimized":"miss"`, `"cacheWritten":"read-only"` and the key: run this on a
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
  const file = await optimizeRelease({
    modelsDir: modelsDirFrom(values['models-dir']),
    name: values.name,
    version: values.version,
    ort,
    ortVersion: versions.onnxruntime,
  });
  process.stdout.write(`Wrote ${file} for ${values.name} ${values.version}\n`);
});
