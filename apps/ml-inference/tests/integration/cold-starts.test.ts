// Cold starts in fresh processes (the built handler, init included), and model:install racing
// them: every cold start that runs while releases are being published answers with one whole
// release, never a mix of two or a half-copied one.
import { mkdir, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { DEMO_LABELS } from '@lambda-efs/onnx-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postEvent } from '../helpers/events.js';
import { RED, solidJpeg } from '../helpers/images.js';
import { demoSource, tempDir } from '../helpers/models.js';
import { coldStart, runNode } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let modelsDir: string;
let eventFile: string;

/** A demo source whose labels carry the version (red-v3), padded to `padding` bytes of model file. */
async function versionedSource(version: string, padding = 0): Promise<string> {
  const source = join(dir, `src-${version}`);
  await demoSource(source, { labels: DEMO_LABELS.map((label) => `${label}-${version}`), padding });
  return source;
}

function installCli(source: string, version: string, into = modelsDir): ReturnType<typeof runNode> {
  return runNode(['dist/cli/model-install.js', source, '--name', 'demo', '--version', version, '--models-dir', into]);
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ml-cold-'));
  modelsDir = join(dir, 'models');
  eventFile = join(dir, 'event.json');
  await writeFile(eventFile, JSON.stringify(postEvent(await solidJpeg(RED, 320, 240))));
});

afterAll(async () => {
  await cleanup();
});

describe('cold starts', () => {
  it('answers 503 with how to install a model when none is installed, then the model once it is', async () => {
    const before = await coldStart(eventFile, { MODEL_DIR: modelsDir });
    expect(before.statusCode).toBe(503);
    expect((before.body['error'] as { code: string }).code).toBe('ENOMODEL');
    expect(before.logs.some((l) => l['message'] === 'model not ready at init; requests will report why')).toBe(true);

    const installed = await installCli(await versionedSource('v1'), 'v1');
    expect(installed.code).toBe(0);
    expect(installed.stdout).toMatch(
      /^Installed demo v1 \(.+\) in .+releases\/v1\n {2}optimized graph for this CPU class: optimized\/ort-1\.30\.0-[a-z0-9-]+\n {2}current -> releases\/v1\n$/,
    );
    expect(installed.stderr).toMatch(/model\.onnx: copying/);

    const after = await coldStart(eventFile, { MODEL_DIR: modelsDir });
    expect(after.statusCode).toBe(200);
    expect(after.body).toMatchObject({ bird_class: 'red-v1', model: { name: 'demo', version: 'v1' } });
    // Loaded during init, as Lambda's init phase would: the request itself found it ready.
    expect(after.logs.find((l) => l['message'] === 'model ready')).toBeDefined();
    expect(after.logs.find((l) => l['message'] === 'request served')?.['modelLoad']).toBeUndefined();
  });

  it('loads onnxruntime-node and sharp from NODE_MODULES_DIR in a fresh process', async () => {
    const require = createRequire(import.meta.url);
    const nodeModules = join(dir, 'efs-lib', 'node_modules');
    await mkdir(nodeModules, { recursive: true });
    for (const name of ['onnxruntime-node', 'sharp']) {
      let pkg = dirname(await realpath(require.resolve(name)));
      while (!pkg.endsWith(`/node_modules/${name}`)) pkg = dirname(pkg);
      await symlink(pkg, join(nodeModules, name));
    }
    const result = await coldStart(eventFile, { MODEL_DIR: modelsDir, NODE_MODULES_DIR: nodeModules });
    expect(result.statusCode).toBe(200);
    expect(result.logs.find((l) => l['message'] === 'model loaded')?.['librariesFrom']).toBe(nodeModules);
  });
});

describe('model:install racing cold starts', () => {
  it('never lets a cold start see a partial model', async () => {
    const raceDir = join(dir, 'race-models');
    expect((await installCli(await versionedSource('v1'), 'v1', raceDir)).code).toBe(0);
    // 24 MB model files: each copy takes long enough for cold starts to land in the middle of it.
    const versions = ['v2', 'v3', 'v4', 'v5'];
    const sources = new Map<string, string>();
    for (const version of versions) sources.set(version, await versionedSource(version, 24 * 1024 * 1024));

    let installing = true;
    const answers: { statusCode: number; label: unknown; version: unknown }[] = [];
    const coldStarts = async (): Promise<void> => {
      // Bounded: stops after the installs, or at 60 cold starts.
      while ((installing || answers.length < 4) && answers.length < 60) {
        const result = await coldStart(eventFile, { MODEL_DIR: raceDir });
        const model = result.body['model'] as { version?: unknown } | undefined;
        answers.push({ statusCode: result.statusCode, label: result.body['bird_class'], version: model?.version });
      }
    };
    const installs = (async (): Promise<void> => {
      try {
        for (const version of versions) {
          const installed = await installCli(sources.get(version) ?? '', version, raceDir);
          expect(installed.code, installed.stderr).toBe(0);
        }
      } finally {
        installing = false;
      }
    })();
    await Promise.all([installs, coldStarts(), coldStarts()]);

    expect(await readlink(join(raceDir, 'demo', 'current'))).toBe('releases/v5');
    expect(answers.length).toBeGreaterThanOrEqual(4);
    for (const answer of answers) {
      expect(answer.statusCode).toBe(200);
      // The label file and the model answering belong to the same release.
      expect(answer.label).toBe(`red-${String(answer.version)}`);
    }
    // Cold starts saw more than one release while the installs ran.
    expect(new Set(answers.map((a) => a.version)).size).toBeGreaterThan(1);
    // Bounded work (4 installs of 24 MB, at most 60 cold starts) that takes about 35 s on a quiet
    // 2-core machine, 80 s in CI and 160 s with CI beside two busy loops: the timeout only catches a hang.
  }, 480_000);
});
