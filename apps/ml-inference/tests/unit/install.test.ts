import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ModelStore, type ReleaseManifest } from '../../src/core/model-store.js';
import { ModelInvalidError } from '../../src/errors.js';
import { InstallError, installModel, optimizeRelease } from '../../src/install/install.js';
import { demoSource, installDemo, libraries, tempDir } from '../helpers/models.js';

let dir: string;
let cleanup: () => Promise<void>;
let modelsDir: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ml-install-'));
  modelsDir = join(dir, 'models');
});

afterEach(async () => {
  await cleanup();
});

function install(
  source: string,
  version: string,
  extra: Partial<Parameters<typeof installModel>[0]> = {},
): ReturnType<typeof installModel> {
  const { ort, versions } = libraries();
  return installModel({ source, modelsDir, name: 'demo', version, ort, ortVersion: versions.onnxruntime, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** Entries of the model directory other than the lock's leftovers (efs-utils reuses them). */
async function modelEntries(): Promise<string[]> {
  return (await readdir(join(modelsDir, 'demo'))).filter((name) => !name.startsWith('.current.lock')).sort();
}

describe('installModel', () => {
  it('publishes a release with a manifest and switches current to it', async () => {
    const source = await demoSource(join(dir, 'src'));
    const result = await install(source, '1.0.0');
    expect(await readlink(join(modelsDir, 'demo', 'current'))).toBe('releases/1.0.0');
    expect(result.previous).toBeUndefined();
    const files = (await readdir(result.releaseDir)).sort();
    expect(files).toEqual(['labels.txt', 'model.json', 'model.onnx', 'optimized', 'release.json']);
    const manifest = JSON.parse(await readFile(join(result.releaseDir, 'release.json'), 'utf8')) as ReleaseManifest;
    expect(result.optimized).toMatch(/^optimized\/ort-1\.30\.0-[a-z0-9-]+$/);
    const entryFiles = (await readdir(join(result.releaseDir, result.optimized ?? ''))).map((file) => `${result.optimized}/${file}`);
    expect(entryFiles).toContain(`${result.optimized}/model.onnx`);
    expect(Object.keys(manifest.files).sort()).toEqual(['labels.txt', 'model.json', 'model.onnx', ...entryFiles].sort());
    // Only the entry itself: no scratch directory left beside it.
    expect(await readdir(join(result.releaseDir, 'optimized'))).toEqual([result.optimized?.split('/')[1]]);
    expect(manifest.files['model.onnx']?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await modelEntries()).toEqual(['current', 'releases']);
  });

  it('records the previous release when switching, and leaves it in place', async () => {
    const source = await demoSource(join(dir, 'src'));
    await install(source, '1');
    const result = await install(source, '2');
    expect(result.previous).toBe('releases/1');
    expect((await readdir(join(modelsDir, 'demo', 'releases'))).sort()).toEqual(['1', '2']);
  });

  it('publishes without switching when asked (--no-activate)', async () => {
    const source = await demoSource(join(dir, 'src'));
    await install(source, '1');
    await install(source, '2', { activate: false });
    expect(await readlink(join(modelsDir, 'demo', 'current'))).toBe('releases/1');
  });

  it('refuses to overwrite an installed version', async () => {
    const source = await demoSource(join(dir, 'src'));
    await install(source, '1');
    const error = await failure(install(source, '1'));
    expect(error).toBeInstanceOf(InstallError);
    expect(error.message).toMatch(
      /^Model "demo" version 1 is already installed \(.+\)\. Releases are immutable: install under a new --version\.$/,
    );
  });

  it('never publishes a model the function would refuse, and leaves nothing behind', async () => {
    const source = await demoSource(join(dir, 'src'), { labels: ['red', 'green', 'blue'] });
    await installDemo(modelsDir, '1');
    const error = await failure(install(source, '2'));
    expect(error).toBeInstanceOf(ModelInvalidError);
    expect(error.message).toMatch(/labels\.txt has 3 labels but output "probabilities" has 8 classes/);
    expect(await readlink(join(modelsDir, 'demo', 'current'))).toBe('releases/1');
    expect(await readdir(join(modelsDir, 'demo', 'releases'))).toEqual(['1']);
    expect(await modelEntries()).toEqual(['current', 'releases']);
  });

  it("installs a bare .onnx file with --labels, using the post's preprocessing by default", async () => {
    const source = await demoSource(join(dir, 'src'));
    await writeFile(join(dir, 'labels.txt'), 'black\nwhite\nred\ngreen\nblue\nyellow\ncyan\nmagenta\n');
    const result = await install(join(source, 'model.onnx'), '1', {
      labelsFile: join(dir, 'labels.txt'),
      configFile: join(source, 'model.json'),
    });
    expect(result.activated).toBe(true);
    const lease = await new ModelStore({ modelDir: modelsDir, modelName: 'demo', threads: 1, libraries }).acquire();
    expect(lease.model.labels).toHaveLength(8);
    lease.release();
  });

  it.each([
    ['a missing source', (d: string) => join(d, 'nope'), /^The model source .+ does not exist \(ENOENT\)/],
    ['a file that is not .onnx', (d: string) => join(d, 'src', 'labels.txt'), /is not an \.onnx file/],
  ])('refuses %s', async (_name, path, message) => {
    await demoSource(join(dir, 'src'));
    expect((await failure(install(path(dir), '1'))).message).toMatch(message);
  });

  it('refuses a directory without labels, saying to pass --labels', async () => {
    const source = await demoSource(join(dir, 'src'));
    const { rm } = await import('node:fs/promises');
    await rm(join(source, 'labels.txt'));
    expect((await failure(install(source, '1'))).message).toMatch(
      /^No labels for model\.onnx: .+labels\.txt does not exist\. Pass --labels <file>/,
    );
  });

  it.each([
    ['../x', '--version "../x" is invalid'],
    ['', '--version "" is invalid'],
  ])('refuses the version %j', async (version, message) => {
    const source = await demoSource(join(dir, 'src'));
    expect((await failure(install(source, version))).message).toMatch(message);
  });

  it('adds an optimized graph for another CPU class to an installed release', async () => {
    const source = await demoSource(join(dir, 'src'));
    const result = await install(source, '1', { optimize: false });
    expect(result.optimized).toBeUndefined();
    const { ort, versions } = libraries();
    const file = await optimizeRelease({
      modelsDir,
      name: 'demo',
      version: '1',
      ort,
      ortVersion: versions.onnxruntime,
      cpuClass: 'x64-avx2',
    });
    expect(file).toBe('optimized/ort-1.30.0-x64-avx2');
    expect((await readdir(join(result.releaseDir, 'optimized'))).sort()).toEqual(['ort-1.30.0-x64-avx2']);
    expect(await readdir(join(result.releaseDir, file))).toContain('model.onnx');
    const lease = await new ModelStore({ modelDir: modelsDir, modelName: 'demo', threads: 1, libraries, cpuClass: 'x64-avx2' }).acquire();
    expect(lease.model.stats.optimized).toBe('hit');
    lease.release();
  });
});
