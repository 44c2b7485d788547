import { mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ABANDONED_SCRATCH_MS, optimizedScratch } from '../../src/core/optimized-cache.js';
import { tempDir } from '../helpers/models.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});

afterEach(async () => {
  await cleanup();
});

/** A directory with a file in it, last changed `ageMs` ago. */
async function made(path: string, ageMs: number): Promise<void> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'model.onnx'), 'partial');
  const at = new Date(Date.now() - ageMs);
  await utimes(path, at, at);
}

describe('optimizedScratch', () => {
  it('removes the scratch directories of writers that died, and nothing else', async () => {
    const optimized = join(dir, 'optimized');
    await made(join(optimized, '.ort-1.30.0-x64-avx512.0123456789ab.tmp'), ABANDONED_SCRATCH_MS + 60_000); // a dead writer's
    await made(join(optimized, '.ort-1.30.0-x64-avx512.ba9876543210.tmp'), 60_000); // a writer at work
    await made(join(optimized, 'ort-1.30.0-x64-avx2'), 10 * ABANDONED_SCRATCH_MS); // a published entry
    await made(join(optimized, '.not-a-scratch'), 10 * ABANDONED_SCRATCH_MS);

    const scratch = await optimizedScratch(optimized, 'ort-1.30.0-x64-avx512');
    expect(scratch).toMatch(/\/\.ort-1\.30\.0-x64-avx512\.[0-9a-f]{12}\.tmp$/);
    const names = (await readdir(optimized)).sort();
    expect(names).not.toContain('.ort-1.30.0-x64-avx512.0123456789ab.tmp');
    expect(names).toEqual(
      ['.not-a-scratch', '.ort-1.30.0-x64-avx512.ba9876543210.tmp', 'ort-1.30.0-x64-avx2', scratch?.split('/').pop() ?? ''].sort(),
    );
    if (scratch !== undefined) await rm(scratch, { recursive: true });
  });
});
