// Models for tests, generated into temporary directories and installed with the real installer.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildDemoModel, writeChunks, writeDemoModel, type DemoModelOptions } from '@lambda-efs/onnx-models';

import { loadConfig, type MlInferenceConfig } from '../../src/config.js';
import { loadNativeLibraries, type NativeLibraries } from '../../src/core/native.js';
import { installModel, type InstallResult } from '../../src/install/install.js';

let native: NativeLibraries | undefined;

/** onnxruntime-node and sharp from the workspace, loaded once per test file. */
export function libraries(): NativeLibraries {
  native ??= loadNativeLibraries({ nodeModulesDir: undefined });
  return native;
}

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'ml-inference-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes the demo model source (model.onnx, labels.txt, model.json) into `dir`. */
export async function demoSource(dir: string, options: DemoModelOptions & { labels?: readonly string[] } = {}): Promise<string> {
  await writeDemoModel(dir, options);
  if (options.labels !== undefined) await writeFile(join(dir, 'labels.txt'), `${options.labels.join('\n')}\n`);
  return dir;
}

/** Generates the demo model and installs it as `name` `version` into `modelsDir`. */
export async function installDemo(
  modelsDir: string,
  version: string,
  options: { name?: string; labels?: readonly string[]; optimize?: boolean; activate?: boolean } = {},
): Promise<InstallResult> {
  const { dir, cleanup } = await tempDir('ml-demo-src-');
  try {
    await demoSource(dir, options.labels === undefined ? {} : { labels: options.labels });
    const { ort, versions } = libraries();
    return await installModel({
      source: dir,
      modelsDir,
      name: options.name ?? 'demo',
      version,
      ort,
      ortVersion: versions.onnxruntime,
      optimize: options.optimize ?? true,
      activate: options.activate ?? true,
    });
  } finally {
    await cleanup();
  }
}

/** The demo graph's bytes, for tests that assemble releases by hand. */
export async function writeDemoOnnx(path: string, options: DemoModelOptions = {}): Promise<void> {
  await writeChunks(path, buildDemoModel(options).onnx);
}

/** A handler configuration on `modelDir` (the environment variables the function would get). */
export function testConfig(modelDir: string, env: Record<string, string> = {}): MlInferenceConfig {
  return loadConfig({ MODEL_DIR: modelDir, MODEL_NAME: 'demo', MODEL_THREADS: '1', ...env });
}
