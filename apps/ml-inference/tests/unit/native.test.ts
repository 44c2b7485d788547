// Loading onnxruntime-node and sharp from a node_modules directory on the file system (the post's
// PYTHONPATH) instead of the bundle. Fake packages prove where a module was resolved from; links
// to the real packages prove a real model runs that way.
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { buildDemoModel } from '@lambda-efs/onnx-models';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadNativeLibraries } from '../../src/core/native.js';
import { NativeLibraryError } from '../../src/errors.js';
import { tempDir } from '../helpers/models.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ml-native-'));
});

afterEach(async () => {
  await cleanup();
});

async function fakePackage(nodeModules: string, name: string, source: string): Promise<void> {
  await mkdir(join(nodeModules, name), { recursive: true });
  await writeFile(join(nodeModules, name, 'package.json'), JSON.stringify({ name, version: '9.9.9-fake', main: 'index.js' }));
  await writeFile(join(nodeModules, name, 'index.js'), source);
}

/** The real package directory of a dependency, as the workspace installed it. */
async function realPackage(name: string): Promise<string> {
  const require = createRequire(import.meta.url);
  let current = dirname(await realpath(require.resolve(name)));
  while (!current.endsWith(`/node_modules/${name}`)) current = dirname(current);
  return current;
}

describe('loadNativeLibraries', () => {
  it('resolves both packages from NODE_MODULES_DIR when it exists', async () => {
    const nodeModules = join(dir, 'node_modules');
    await fakePackage(
      nodeModules,
      'onnxruntime-node',
      'exports.InferenceSession = { create: async () => "fake-session" }; exports.env = {}; exports.marker = "efs";',
    );
    await fakePackage(
      nodeModules,
      'sharp',
      'const sharp = () => "fake-image"; sharp.cache = () => {}; sharp.concurrency = () => {}; sharp.versions = { sharp: "9.9.9-fake" }; sharp.marker = "efs"; module.exports = sharp;',
    );
    const libraries = loadNativeLibraries({ nodeModulesDir: nodeModules });
    expect(libraries.from).toBe(nodeModules);
    expect((libraries.ort as unknown as { marker: string }).marker).toBe('efs');
    expect((libraries.sharp as unknown as { marker: string }).marker).toBe('efs');
    expect(libraries.versions).toEqual({ onnxruntime: '9.9.9-fake', sharp: '9.9.9-fake' });
  });

  it('runs a real model with the packages linked into NODE_MODULES_DIR', async () => {
    const nodeModules = join(dir, 'node_modules');
    await mkdir(nodeModules);
    await symlink(await realPackage('onnxruntime-node'), join(nodeModules, 'onnxruntime-node'));
    await symlink(await realPackage('sharp'), join(nodeModules, 'sharp'));
    const { ort, sharp, from, versions } = loadNativeLibraries({ nodeModulesDir: nodeModules });
    expect(from).toBe(nodeModules);
    expect(versions.onnxruntime).toBe('1.30.0');
    const session = await ort.InferenceSession.create(buildDemoModel({ crop: 4, resize: 4 }).onnx.toBuffer());
    const out = await session.run({ image: new ort.Tensor('float32', new Float32Array(48), [1, 3, 4, 4]) });
    expect(out['probabilities']?.dims).toEqual([1, 8]);
    await session.release();
    expect(
      (
        await sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } })
          .png()
          .toBuffer()
      ).length,
    ).toBeGreaterThan(0);
  });

  it('uses the deployment package when NODE_MODULES_DIR does not exist', () => {
    const libraries = loadNativeLibraries({ nodeModulesDir: join(dir, 'absent', 'node_modules') });
    expect(libraries.from).toBe('bundle');
    expect(libraries.versions.onnxruntime).toBe('1.30.0');
    expect(libraries.versions.sharp).toBe('0.35.5');
  });

  it('refuses a NODE_MODULES_DIR that lacks sharp, saying that the deploy installs it (or to ship it in the package)', async () => {
    const nodeModules = join(dir, 'node_modules');
    await fakePackage(nodeModules, 'onnxruntime-node', 'exports.InferenceSession = { create: async () => null }; exports.env = {};');
    let error: unknown;
    try {
      loadNativeLibraries({ nodeModulesDir: nodeModules });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(NativeLibraryError);
    expect((error as NativeLibraryError).status).toBe(503);
    expect((error as Error).message).toMatch(
      /^NODE_MODULES_DIR has no sharp \(no sharp\/package\.json in the native libraries directory\)\. The deploy installs this directory when the declaration says nativeModules: \{ from: 'file-system' \}: .*efs-provisioner installs it .*Run cdktf deploy again .*or declare nativeModules: \{ from: 'package' \} \(the default\)/,
    );
    // The post's manual procedure is gone: nobody runs npm on a machine that mounts the file system.
    expect((error as Error).message).not.toMatch(/npm install|EC2/);
  });

  it('reports a package that fails to load', async () => {
    const nodeModules = join(dir, 'node_modules');
    await fakePackage(nodeModules, 'onnxruntime-node', 'throw new Error("libonnxruntime.so.1: cannot open shared object file");');
    await fakePackage(nodeModules, 'sharp', 'module.exports = () => null;');
    expect(() => loadNativeLibraries({ nodeModulesDir: nodeModules })).toThrow(
      /^onnxruntime-node could not be loaded from NODE_MODULES_DIR \(libonnxruntime\.so\.1: cannot open shared object file\)/,
    );
  });
});
