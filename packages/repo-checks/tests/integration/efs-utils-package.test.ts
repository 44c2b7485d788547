// The npm package of @lambda-efs/efs-utils as users get it: `pnpm pack` (what release.yml
// publishes), its contents and manifest, publint and are-the-types-wrong on the tarball, then a
// fresh project that installs the tarball offline, imports it from ESM and type-checks a use of it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';

import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PACKAGE_DIR, REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const EFS_UTILS = join(REPO_ROOT, 'packages', 'efs-utils');
const require = createRequire(import.meta.url);

let work = '';
let tarball = '';
let tarballData = new Uint8Array();
let entries: string[] = [];
let manifest: Record<string, unknown> = {};

beforeAll(async () => {
  if (!existsSync(join(EFS_UTILS, 'dist', 'index.js'))) {
    throw new Error(
      'packages/efs-utils/dist is missing: run `pnpm exec turbo run build --filter=@lambda-efs/efs-utils` first (turbo does it for this test).',
    );
  }
  work = await mkdtemp(join(tmpdir(), 'efs-utils-package-'));
  await run('pnpm', ['pack', '--pack-destination', work], { cwd: EFS_UTILS });
  const packed = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(work, packed[0] ?? '');
  tarballData = new Uint8Array(await readFile(tarball));
  const { stdout } = await run('tar', ['-tzf', tarball]);
  entries = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^package\//, ''))
    .sort();
  manifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as Record<string, unknown>;
});

afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

async function sourceModules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      found.push(relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/').replace(/\.ts$/, ''));
    }
  }
  return found.sort();
}

describe('pnpm pack of @lambda-efs/efs-utils', () => {
  it('contains only package.json, README.md, LICENSE and dist/*.js with their .d.ts', () => {
    const unexpected = entries.filter((entry) => !/^(package\.json|README\.md|LICENSE|dist\/[\w/-]+\.(js|d\.ts))$/.test(entry));
    expect(unexpected).toEqual([]);
    expect(entries).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
  });

  it('ships exactly one .js and one .d.ts per source module, nothing stale', async () => {
    const modules = await sourceModules(join(EFS_UTILS, 'src'));
    const js = entries.filter((entry) => entry.endsWith('.js')).map((entry) => entry.slice('dist/'.length, -'.js'.length));
    const dts = entries.filter((entry) => entry.endsWith('.d.ts')).map((entry) => entry.slice('dist/'.length, -'.d.ts'.length));
    expect(js).toEqual(modules);
    expect(dts).toEqual(modules);
  });

  it('has a manifest fit to publish: ESM, exports with types first, no dependencies, provenance', () => {
    expect(manifest).toMatchObject({
      name: '@lambda-efs/efs-utils',
      type: 'module',
      sideEffects: false,
      files: ['dist'],
      license: 'MIT',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      publishConfig: { access: 'public', provenance: true },
    });
    expect(manifest['version']).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(manifest).not.toHaveProperty('private');
    expect(manifest['engines']).toHaveProperty('node');
    expect(Object.keys((manifest['exports'] as Record<string, Record<string, string>>)['.'] ?? {})).toEqual(['types', 'default']);
    expect(manifest['dependencies'] ?? {}).toEqual({});
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
  });

  it('passes publint with no error, warning or suggestion', async () => {
    const { messages, pkg } = await publint({ pack: { tarball: tarballData.slice().buffer }, level: 'suggestion', strict: true });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`)).toEqual([]);
  });

  it('has types that resolve for node16 (ESM) and bundlers (are-the-types-wrong)', async () => {
    const result = await checkPackage(createPackageFromTarballData(tarballData));
    expect(result.types).not.toBe(false);
    // ESM only by design (README): a CommonJS caller needs import(), which is all this one says.
    const problems = 'problems' in result ? result.problems.filter((problem) => problem.kind !== 'CJSResolvesToESM') : [];
    expect(problems).toEqual([]);
    if (!('entrypoints' in result)) throw new Error('are-the-types-wrong found no entrypoints');
    const root = result.entrypoints['.'];
    expect(root?.resolutions['node16-esm'].resolution?.isTypeScript).toBe(true);
    expect(root?.resolutions['bundler'].resolution?.isTypeScript).toBe(true);
  });
});

describe('a fresh project that installs the tarball', () => {
  let consumer = '';

  beforeAll(async () => {
    consumer = join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // --offline: the package has no dependencies, so nothing may need the registry.
    await run(
      'npm',
      [
        'install',
        tarball,
        '--offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--no-package-lock',
        '--loglevel=error',
        '--cache',
        join(work, 'npm-cache'),
      ],
      { cwd: consumer },
    );
  });

  it('imports it from ESM and uses it on a real directory', async () => {
    await writeFile(
      join(consumer, 'smoke.mjs'),
      `import { appendLine, atomicWriteFile, readLines, withLock, EfsUtilsError, InvalidArgumentError } from '@lambda-efs/efs-utils';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const dir = await mkdtemp(join(tmpdir(), 'efs-utils-smoke-'));
const wall = join(dir, 'content');
await appendLine(wall, 'first');
await appendLine(wall, 'second');
const lines = await readLines(wall);
const copy = join(dir, 'copy');
await withLock(copy, async (lock) => { await atomicWriteFile(copy, lines.join(','), { lock }); });
let code = null;
try { await appendLine(wall, 'two\\nlines'); } catch (error) { code = error instanceof InvalidArgumentError && error instanceof EfsUtilsError ? error.code : String(error); }
console.log(JSON.stringify({ lines, copy: await readFile(copy, 'utf8'), code }));
`,
    );
    const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual({ lines: ['first', 'second'], copy: 'first,second', code: 'EINVALIDARG' });
  });

  it('type-checks a use of it with the repository TypeScript (NodeNext, strict)', async () => {
    await writeFile(
      join(consumer, 'use.ts'),
      `import { appendLine, lock, readLines, withLock, LockTimeoutError, type Lock, type LockOptions } from '@lambda-efs/efs-utils';

const options: LockOptions = { mode: 'shared', staleMs: 10_000, timeoutMs: 0 };
export async function post(path: string, message: string): Promise<string[]> {
  await appendLine(path, message, { fsync: true });
  return readLines(path);
}
export async function count(path: string): Promise<number> {
  return withLock(path, async (held: Lock) => (await readLines(path, { lock: held })).length, options);
}
export async function tryLock(path: string): Promise<Lock | 'busy'> {
  try {
    return await lock(path, { timeoutMs: 0 });
  } catch (error) {
    if (error instanceof LockTimeoutError) return error.code === 'ELOCKTIMEOUT' ? 'busy' : 'busy';
    throw error;
  }
}
// The declarations are real types, not any: each misuse below must be an error.
// @ts-expect-error a line is a string
await appendLine('/tmp/x', 42);
// @ts-expect-error readLines gives string[]
export const wrong: Promise<number[]> = readLines('/tmp/x');
// @ts-expect-error there is no 'upgradable' mode
export const mode: LockOptions = { mode: 'upgradable' };
`,
    );
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          // As most projects (and this repository) do; checking all of @types/node would triple the time.
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(PACKAGE_DIR, 'node_modules', '@types')],
        },
        files: ['use.ts'],
      }),
    );
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).catch((error: { stdout?: string }) => ({
      stdout: error.stdout ?? String(error),
      failed: true,
    }));
    expect(result.stdout).toBe('');
  });
});
