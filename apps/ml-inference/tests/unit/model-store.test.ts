import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { switchSymlink } from '@lambda-efs/efs-utils';
import { buildDemoModel, DEMO_LABELS } from '@lambda-efs/onnx-models';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ModelStore } from '../../src/core/model-store.js';
import { ModelInvalidError, ModelNotInstalledError } from '../../src/errors.js';
import { installDemo, libraries, tempDir } from '../helpers/models.js';

let modelsDir: string;
let cleanup: () => Promise<void>;
let logs: { level: string; message: string; fields: Record<string, unknown> }[];
let stores: ModelStore[];

function store(options: { cpuClass?: string } = {}): ModelStore {
  const created = new ModelStore({
    modelDir: modelsDir,
    modelName: 'demo',
    threads: 1,
    libraries,
    log: (level, message, fields) => logs.push({ level, message, fields }),
    ...options,
  });
  stores.push(created);
  return created;
}

/** A release assembled by hand (no installer checks), then made current. */
async function handRelease(version: string, parts: { onnx?: Buffer | null; labels?: string | null; config?: unknown }): Promise<void> {
  const dir = join(modelsDir, 'demo', 'releases', version);
  await mkdir(dir, { recursive: true });
  const demo = buildDemoModel();
  if (parts.onnx !== null) await writeFile(join(dir, 'model.onnx'), parts.onnx ?? demo.onnx.toBuffer());
  if (parts.labels !== null) await writeFile(join(dir, 'labels.txt'), parts.labels ?? demo.labels);
  if (parts.config !== null) await writeFile(join(dir, 'model.json'), JSON.stringify(parts.config ?? demo.config));
  await switchSymlink(join(modelsDir, 'demo', 'current'), `releases/${version}`);
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

beforeEach(async () => {
  ({ dir: modelsDir, cleanup } = await tempDir('ml-store-'));
  logs = [];
  stores = [];
});

afterEach(async () => {
  for (const s of stores) await s.close();
  await cleanup();
});

describe('ModelStore', () => {
  it('answers 503 with how to install a model when none is installed', async () => {
    const error = await refusal(store().acquire());
    expect(error).toBeInstanceOf(ModelNotInstalledError);
    expect((error as ModelNotInstalledError).status).toBe(503);
    expect(error.message).toMatch(
      /^No model "demo" is installed: MODEL_DIR\/demo\/current does not exist\. Install one with: pnpm model:install <model-dir-or-file\.onnx> --name <name> --version <version>/,
    );
    expect(error.message).toMatch(/pnpm --filter @lambda-efs\/ml-inference model:demo installs the demo model/);
  });

  it('loads the release current points at once, however many first requests wait for it', async () => {
    await installDemo(modelsDir, '1');
    const s = store();
    const leases = await Promise.all([s.acquire(), s.acquire(), s.acquire(), s.acquire()]);
    expect(leases.map((l) => l.model.version)).toEqual(['1', '1', '1', '1']);
    expect(leases.filter((l) => l.loadedNow)).toHaveLength(1);
    expect(logs.filter((l) => l.message === 'model loaded')).toHaveLength(1);
    for (const lease of leases) lease.release();
    const again = await s.acquire();
    expect(again.loadedNow).toBe(false);
    again.release();
  });

  it('uses the optimized graph for this CPU class and counts the bytes it read', async () => {
    const installed = await installDemo(modelsDir, '1');
    const lease = await store().acquire();
    const { stats } = lease.model;
    expect(stats.optimized).toBe('hit');
    expect(installed.optimized).toBe(`optimized/${stats.cacheKey}`);
    const entry = installed.optimized ?? '';
    // The entry: the graph and, when it has initializers of 1 KiB or more (not the demo's), their file.
    const entryFiles = (await readdir(join(installed.releaseDir, entry))).map((file) => `${entry}/${file}`);
    expect(entryFiles).toContain(`${entry}/model.onnx`);
    expect(Object.keys(stats.files).sort()).toEqual([...entryFiles, 'labels.txt', 'model.json', 'release.json'].sort());
    expect(stats.files[`${entry}/model.onnx`]).toBe((await stat(join(installed.releaseDir, entry, 'model.onnx'))).size);
    expect(stats.bytesRead).toBe(Object.values(stats.files).reduce((a, b) => a + b, 0));
    expect(stats.memoryTouchedMb.session).toBeGreaterThanOrEqual(0);
    lease.release();
  });

  it('at a miss, loads model.onnx and writes the optimized graph that the next cold start uses', async () => {
    const installed = await installDemo(modelsDir, '1');
    const first = await store({ cpuClass: 'x64-other' }).acquire();
    expect(first.model.stats).toMatchObject({ optimized: 'miss', cacheWritten: 'published', cacheKey: 'ort-1.30.0-x64-other' });
    expect(first.model.stats.files['model.onnx']).toBeGreaterThan(0);
    const blank = new Float32Array(3 * 448 * 448);
    const missAnswer = await first.model.session.run(blank, [1, 3, 448, 448]);
    first.release();
    expect((await readdir(join(installed.releaseDir, 'optimized'))).sort()).toEqual(
      [installed.optimized?.split('/')[1], 'ort-1.30.0-x64-other'].sort(),
    );

    const next = await store({ cpuClass: 'x64-other' }).acquire();
    expect(next.model.stats.optimized).toBe('hit');
    expect(next.model.stats.cacheWritten).toBeUndefined();
    expect(next.model.stats.files['model.onnx']).toBeUndefined();
    const hitAnswer = await next.model.session.run(blank, [1, 3, 448, 448]);
    hitAnswer.forEach((score, i) => expect(score).toBeCloseTo(missAnswer[i] ?? NaN, 4));
    next.release();
  });

  it('two cold starts missing at once publish one entry and leave no scratch behind', async () => {
    const installed = await installDemo(modelsDir, '1');
    const leases = await Promise.all([store({ cpuClass: 'x64-race' }).acquire(), store({ cpuClass: 'x64-race' }).acquire()]);
    expect(leases.map((l) => l.model.stats.cacheWritten).sort()).toEqual(['already-there', 'published']);
    for (const lease of leases) lease.release();
    expect((await readdir(join(installed.releaseDir, 'optimized'))).filter((name) => name.includes('x64-race'))).toEqual([
      'ort-1.30.0-x64-race',
    ]);
  });

  it('loads model.onnx without writing when the release cannot be written', async () => {
    const installed = await installDemo(modelsDir, '1', { optimize: false });
    // A file where the cache directory would go: as unwritable as a read-only mount, even for root.
    await writeFile(join(installed.releaseDir, 'optimized'), '');
    const lease = await store().acquire();
    expect(lease.model.stats).toMatchObject({ optimized: 'miss', cacheWritten: 'read-only' });
    await expect(lease.model.session.run(new Float32Array(3 * 448 * 448), [1, 3, 448, 448])).resolves.toHaveLength(8);
    lease.release();
  });

  it('falls back to model.onnx when the optimized graph is damaged', async () => {
    const installed = await installDemo(modelsDir, '1');
    await writeFile(join(installed.releaseDir, installed.optimized ?? '', 'model.onnx'), 'not a model');
    const lease = await store().acquire();
    expect(lease.model.stats.optimized).toBe('fallback');
    expect(logs.some((l) => l.level === 'WARN' && l.message === 'optimized model unusable; loading model.onnx')).toBe(true);
    lease.release();
  });

  it('notices a release switch at the next request and releases the old session when its request is done', async () => {
    await installDemo(modelsDir, '1');
    const s = store();
    const first = await s.acquire();
    expect(first.model.version).toBe('1');
    await installDemo(modelsDir, '2', { labels: DEMO_LABELS.map((l) => l.toUpperCase()) });
    const second = await s.acquire();
    expect(second.model.version).toBe('2');
    expect(second.loadedNow).toBe(true);
    expect(second.model.labels[2]).toBe('RED');
    // The request that still holds release 1 can finish with it.
    const blank = new Float32Array(3 * 448 * 448);
    await expect(first.model.session.run(blank, [1, 3, 448, 448])).resolves.toHaveLength(8);
    first.release();
    await expect(first.model.session.run(blank, [1, 3, 448, 448])).rejects.toThrow();
    await expect(second.model.session.run(blank, [1, 3, 448, 448])).resolves.toHaveLength(8);
    second.release();
    expect(logs.some((l) => l.message === 'model release switched' && l.fields['from'] === '1' && l.fields['to'] === '2')).toBe(true);
  });

  it('keeps answering with the loaded release when the new one is broken, and logs why', async () => {
    await installDemo(modelsDir, '1');
    const s = store();
    (await s.acquire()).release();
    await handRelease('2', { labels: 'only\nseven\nlabels\nhere\nfor\nthe\nmodel\n' });
    const lease = await s.acquire();
    expect(lease.model.version).toBe('1');
    lease.release();
    const logged = logs.find((l) => l.level === 'ERROR');
    expect(logged?.message).toBe('new model release failed to load; serving the previous one');
    expect(logged?.fields['reason']).toMatch(/labels\.txt has 7 labels but output "probabilities" has 8 classes/);
    // Not retried on every request: the failure is remembered for a while.
    (await s.acquire()).release();
    expect(logs.filter((l) => l.level === 'ERROR')).toHaveLength(1);
  });

  it.each([
    [
      'model.onnx',
      { onnx: null },
      'Model "demo" version 9: model.onnx is missing from the release. Install the model again (pnpm model:install).',
    ],
    [
      'labels.txt',
      { labels: null },
      'Model "demo" version 9: labels.txt is missing from the release. Install the model again (pnpm model:install).',
    ],
    [
      'model.json',
      { config: null },
      'Model "demo" version 9: model.json is missing from the release. Install the model again (pnpm model:install).',
    ],
  ])('refuses a release without %s with 503', async (_file, parts, message) => {
    await handRelease('9', parts);
    const error = await refusal(store().acquire());
    expect(error).toBeInstanceOf(ModelInvalidError);
    expect((error as ModelInvalidError).status).toBe(503);
    expect(error.message).toBe(message);
  });

  it("refuses labels that do not match the model's outputs with 503", async () => {
    await handRelease('9', { labels: 'red\ngreen\nblue\n' });
    const error = await refusal(store().acquire());
    expect(error.message).toBe(
      'Model "demo" version 9: labels.txt has 3 labels but output "probabilities" has 8 classes. Install the labels that belong to this model (one per line, in class order).',
    );
  });

  it('refuses a model whose input shape does not match model.json with 503', async () => {
    const config = { ...buildDemoModel().config, crop: { width: 224, height: 224 } };
    await handRelease('9', { config });
    const error = await refusal(store().acquire());
    expect(error).toBeInstanceOf(ModelInvalidError);
    expect(error.message).toBe(
      'Model "demo" version 9: input "image" has shape [batch, 3, 448, 448], but model.json (layout NCHW, crop 224×224) feeds [1, 3, 224, 224]. ' +
        'Fix "layout" and "crop" in model.json, or export the model for that shape.',
    );
  });

  it('refuses a file that is not an ONNX model with 503', async () => {
    await handRelease('9', { onnx: Buffer.from('this is not protobuf') });
    const error = await refusal(store().acquire());
    expect(error.message).toMatch(/^Model "demo" version 9: onnxruntime cannot load the model \(.+\)\. Install a valid ONNX model\.$/);
  });

  it('refuses names in model.json that the model does not have', async () => {
    await handRelease('9', { config: { input: 'pixels' } });
    expect((await refusal(store().acquire())).message).toBe(
      'Model "demo" version 9: model.json names input "pixels", but the model\'s inputs are image. Fix "input" in model.json.',
    );
  });

  it('refuses blank labels', async () => {
    await handRelease('9', { labels: 'a\n\nb\n' });
    expect((await refusal(store().acquire())).message).toBe(
      'Model "demo" version 9: labels.txt line 2 is blank. Write one label per line, in the model\'s class order.',
    );
  });

  it('refuses a current link that points outside releases/', async () => {
    await mkdir(join(modelsDir, 'demo'), { recursive: true });
    await symlink('/etc', join(modelsDir, 'demo', 'current'));
    expect((await refusal(store().acquire())).message).toBe(
      'Model "demo": current points at "/etc", not at releases/<version>. Switch it with pnpm model:install.',
    );
  });

  it('refuses a release whose model.onnx does not have the size release.json records', async () => {
    const installed = await installDemo(modelsDir, '1', { optimize: false });
    await writeFile(join(installed.releaseDir, 'model.onnx'), buildDemoModel().onnx.toBuffer().subarray(0, 100));
    expect((await refusal(store().acquire())).message).toMatch(
      /model\.onnx is 100 bytes but release\.json says \d+: the release is damaged/,
    );
  });
});
