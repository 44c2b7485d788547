import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

import { defineFunction } from '@lambda-efs/function-spec';
import { afterAll, describe, expect, it } from 'vitest';

import { buildCommandFor, bundleFunction, checkEntries, esbuildTarget, staleEntryWarning } from '../../src/bundling/bundle.js';
import { BundleError, MissingEntryError } from '../../src/errors.js';
import { messageWall, mlInference, unbuilt } from '../fixtures/system.js';
import { temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('bundle');
afterAll(() => work.remove());

describe('bundleFunction', () => {
  it('bundles the entry and its imports into one handler.mjs that Node can load and call', async () => {
    const bundle = await bundleFunction(messageWall, { outDir: work.path });
    const code = readFileSync(join(work.path, 'message-wall', 'handler.mjs'), 'utf8');
    expect(code).not.toMatch(/from ['"]\.\/lib\/greeting\.js['"]/);
    const module = (await import(pathToFileURL(join(work.path, 'message-wall', 'handler.mjs')).href)) as {
      handler: (event: unknown) => Promise<{ body: string }>;
    };
    await expect(module.handler({ rawPath: '/message-wall' })).resolves.toMatchObject({
      statusCode: 200,
      body: 'hello from /message-wall /mnt/msg/content',
    });
    expect(bundle.zipPath).toBe(join(work.path, 'message-wall', 'handler.zip'));
  });

  it("zips handler.mjs at the root and reports the zip's SHA-256, base64, as Lambda's CodeSha256", async () => {
    const bundle = await bundleFunction(messageWall, { outDir: work.path });
    const zip = readFileSync(bundle.zipPath);
    expect(zip.toString('utf8', 30, 30 + 'handler.mjs'.length)).toBe('handler.mjs');
    const { createHash } = await import('node:crypto');
    expect(bundle.sha256Base64).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(bundle.sha256Hex).toBe(createHash('sha256').update(zip).digest('hex'));
    const size = zip.readUInt32LE(18);
    expect(inflateRawSync(zip.subarray(30 + 11, 30 + 11 + size)).toString()).toBe(
      readFileSync(join(work.path, 'message-wall', 'handler.mjs'), 'utf8'),
    );
  });

  it('gives the same hash on every run (no timestamps or machine paths in the bundle)', async () => {
    const first = await bundleFunction(messageWall, { outDir: join(work.path, 'first') });
    const second = await bundleFunction(messageWall, { outDir: join(work.path, 'second') });
    expect(second.sha256Base64).toBe(first.sha256Base64);
    expect(readFileSync(first.zipPath).includes(Buffer.from(work.path))).toBe(false);
  });

  it('leaves external modules (native ones kept on EFS) as imports', async () => {
    await bundleFunction(mlInference, { outDir: work.path, externalModules: ['onnxruntime-node'] });
    expect(readFileSync(join(work.path, 'ml-inference', 'handler.mjs'), 'utf8')).toContain('import("onnxruntime-node")');
  });

  it('fails with BundleError naming the function and the import it cannot resolve', async () => {
    const broken = defineFunction({ name: 'broken', entry: new URL('../fixtures/handlers/broken.js', import.meta.url) });
    const error = await bundleFunction(broken, { outDir: work.path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as BundleError).code).toBe('EBUNDLE');
    expect((error as Error).message).toMatch(/^Function "broken": bundling failed: .*Could not resolve "\.\/does-not-exist\.js"/);
  });

  it('fails with MissingEntryError naming the function, the path and the build command', async () => {
    const error = await bundleFunction(unbuilt, { outDir: work.path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingEntryError);
    expect((error as MissingEntryError).code).toBe('EMISSINGENTRY');
    expect((error as Error).message).toBe(
      `Function "unbuilt": its handler ${unbuilt.entry} does not exist. Build it first with ` +
        '`pnpm --filter @lambda-efs/infra build`, then synthesize again (or set LAMBDA_EFS_ONLY_BUILT=1 to leave out functions that are not built yet).',
    );
  });
});

describe('entries and targets', () => {
  it('splits built entries from missing ones', () => {
    const { built, missing } = checkEntries([messageWall, unbuilt]);
    expect(built.map((fn) => fn.name)).toEqual(['message-wall']);
    expect(missing.map((error) => error.functionName)).toEqual(['unbuilt']);
  });

  it('names the build command of the package that owns an entry', () => {
    expect(buildCommandFor(join(process.cwd(), '..', 'apps', 'ml-inference', 'dist', 'handler.js'))).toBe(
      'pnpm --filter @lambda-efs/ml-inference build',
    );
    expect(buildCommandFor('/nowhere/at/all/handler.js')).toBe('pnpm build');
  });

  it('targets the Node.js version of the runtime', () => {
    expect(esbuildTarget('nodejs20.x')).toBe('node20');
    expect(esbuildTarget('nodejs22.x')).toBe('node22');
  });
});

describe('staleEntryWarning', () => {
  function fakePackage(name: string, handlerAge: number, sourceAge: number): string {
    const root = join(work.path, name);
    mkdirSync(join(root, 'src', 'core'), { recursive: true });
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: `@example/${name}` }));
    writeFileSync(join(root, 'src', 'core', 'wall.ts'), 'export {};');
    writeFileSync(join(root, 'dist', 'handler.js'), 'export const handler = () => 1;');
    const now = Date.now() / 1000;
    utimesSync(join(root, 'src', 'core', 'wall.ts'), now - sourceAge, now - sourceAge);
    utimesSync(join(root, 'dist', 'handler.js'), now - handlerAge, now - handlerAge);
    return join(root, 'dist', 'handler.js');
  }

  it('warns when the compiled handler is older than a source of its package, naming the build command', () => {
    const entry = fakePackage('stale', 60, 10);
    expect(staleEntryWarning({ name: 'stale', entry })).toBe(
      `Function "stale": its handler ${entry} is older than ${join(work.path, 'stale', 'src', 'core', 'wall.ts')}, ` +
        'so the bundle would deploy stale code; run `pnpm --filter @example/stale build` (or `pnpm build`) and synthesize again.',
    );
  });

  it('is quiet when the handler is newer than every source', () => {
    expect(staleEntryWarning({ name: 'fresh', entry: fakePackage('fresh', 10, 60) })).toBeNull();
  });

  it('is quiet for an entry that is not compiled output (a fixture, a source file)', () => {
    expect(staleEntryWarning(messageWall)).toBeNull();
  });
});
