// The model commands as people run them: built, in child processes.
import { readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from '../helpers/models.js';
import { runNode } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ml-cli-'));
});

afterAll(async () => {
  await cleanup();
});

describe('model:demo', () => {
  it('installs the demo model where the local runtime reads it, once', async () => {
    const efsRoot = join(dir, '.efs');
    const first = await runNode(['dist/cli/model-demo.js', '--efs-root', efsRoot]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^Installed the demo model as "demo" 1\.0\.0 in .+\/\.efs\/ml\/models\/demo\/releases\/1\.0\.0; current -> releases\/1\.0\.0\n$/,
    );
    expect(await readlink(join(efsRoot, 'ml', 'models', 'demo', 'current'))).toBe('releases/1.0.0');
    // The access point's directory as declared (mode 750), as EFS and the local runtime create it.
    expect((await stat(join(efsRoot, 'ml'))).mode & 0o777).toBe(0o750);

    const second = await runNode(['dist/cli/model-demo.js', '--efs-root', efsRoot]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Model "demo" is already installed \(.+ -> releases\/1\.0\.0\); nothing to do\.\n$/);
  });
});

describe('model:install', () => {
  it('explains what is missing', async () => {
    const result = await runNode(['dist/cli/model-install.js', 'somewhere']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: a model source, --name and --version are required\.\n\nUsage: pnpm model:install/);
  });

  it('installs a generated model from a path relative to where it was run (INIT_CWD)', async () => {
    const generated = await runNode(['dist/cli/model-generate.js', '--kind', 'demo', '--out', 'demo-src'], { INIT_CWD: dir });
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(/^Wrote demo to .+\/demo-src: model\.onnx \d+ B, 8 labels in/);
    const installed = await runNode(
      ['dist/cli/model-install.js', 'demo-src', '--name', 'colours', '--version', '7', '--models-dir', 'models', '--no-optimize'],
      {
        INIT_CWD: dir,
      },
    );
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/^Installed colours 7 \(1\.\d KiB\) in (.+)\n {2}current -> releases\/7\n$/);
    expect(installed.stdout).toContain(join(dir, 'models', 'colours', 'releases', '7'));
  });

  it('names the storages model:generate knows when given another', async () => {
    const result = await runNode(['dist/cli/model-generate.js', '--kind', 'resnet50', '--storage', 'int4', '--out', join(dir, 'never')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: --storage must be one of float32, float16, int8, int8-qdq.\n');
  });

  it('refuses a model the function would refuse, with the reason', async () => {
    const generated = await runNode(['dist/cli/model-generate.js', '--kind', 'demo', '--out', join(dir, 'bad')]);
    expect(generated.code).toBe(0);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'bad', 'model.json'), '{"crop": {"width": 224, "height": 224}}');
    const result = await runNode([
      'dist/cli/model-install.js',
      join(dir, 'bad'),
      '--name',
      'bad',
      '--version',
      '1',
      '--models-dir',
      join(dir, 'models'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: Model "bad" version 1: input "image" has shape \[batch, 3, 448, 448\], but model\.json \(layout NCHW, crop 224×224\) feeds \[1, 3, 224, 224\]/m,
    );
  });
});
