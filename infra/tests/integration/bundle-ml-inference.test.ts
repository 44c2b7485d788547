// The real ml-inference bundle, for both architectures: the zip carries onnxruntime-node and sharp
// for linux on that architecture only (checked by ELF header: x86-64 = 62, aarch64 = 183), and
// the x64 one classifies an image from an extracted copy outside the workspace, with the natives
// in the package and with them in a NODE_MODULES_DIR directory standing in for EFS. The arm64
// one cannot run here: its binaries are only checked.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineFunction, type FunctionDefinition } from '@lambda-efs/function-spec';
import { functionDefinition } from '@lambda-efs/ml-inference/function';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { binaryKind, ELF_MACHINE } from '../../src/bundling/binary.js';
import { bundleFunction, owningPackage, type FunctionBundle } from '../../src/bundling/bundle.js';
import { platformNodeModules } from '../../src/bundling/native-modules.js';
import { readZip, type ZipEntry } from '../../src/bundling/zip.js';
import { temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('bundle-ml');
afterAll(() => work.remove());

const INVOKE = fileURLToPath(new URL('../fixtures/ml-inference/invoke.mjs', import.meta.url));
const EVENT = fileURLToPath(new URL('../fixtures/ml-inference/post-red-jpeg.json', import.meta.url));
const ML_PACKAGE = owningPackage(functionDefinition.entry)?.directory ?? '';

const bundles = new Map<string, { bundle: FunctionBundle; entries: ZipEntry[] }>();
let modelsDir: string;

function withArchitecture(architecture: 'x86_64' | 'arm64'): FunctionDefinition {
  return defineFunction({ ...functionDefinition, architecture });
}

function extract(entries: readonly ZipEntry[], dir: string): void {
  for (const entry of entries) {
    const target = join(dir, entry.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.data);
  }
}

/** A cold start of an extracted package in a fresh `node --enable-source-maps`, with only `env`. */
function coldStart(
  taskDir: string,
  env: Record<string, string>,
): Promise<{ result: Record<string, unknown>; logs: Record<string, unknown>[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', INVOKE, taskDir, EVENT], {
      cwd: taskDir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', AWS_LAMBDA_FUNCTION_NAME: 'ml-inference', MODEL_NAME: 'demo', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.split('\n').filter((line) => line !== '');
      const answer = lines.find((line) => line.startsWith('RESULT '));
      if (answer === undefined) return reject(new Error(`no answer (exit ${String(code)}): ${stdout}\n${stderr}`));
      resolve({
        result: JSON.parse(answer.slice('RESULT '.length)) as Record<string, unknown>,
        logs: lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
        stderr,
      });
    });
  });
}

beforeAll(async () => {
  for (const architecture of ['x86_64', 'arm64'] as const) {
    const bundle = await bundleFunction(withArchitecture(architecture), { outDir: join(work.path, architecture) });
    bundles.set(architecture, { bundle, entries: readZip(readFileSync(bundle.zipPath)) });
  }
  // The demo model, installed by ml-inference's own command into a directory standing in for EFS.
  const efsRoot = join(work.path, 'efs');
  const install = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ML_PACKAGE, 'dist', 'cli', 'model-demo.js'), '--efs-root', efsRoot], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', resolve);
  });
  expect(install).toBe(0);
  modelsDir = join(efsRoot, 'ml', 'models');
}, 240_000);

describe.each([
  ['x86_64', ELF_MACHINE.x86_64, 'x64', 'arm64'],
  ['arm64', ELF_MACHINE.arm64, 'arm64', 'x64'],
] as const)('the %s bundle of ml-inference', (architecture, machine, cpu, otherCpu) => {
  it(`carries onnxruntime-node and sharp as ELF files for machine ${machine} only`, () => {
    const { entries } = bundles.get(architecture) ?? { entries: [] };
    const binaries = entries.filter((entry) => binaryKind(entry.data, entry.name).kind !== 'other');
    // Versions vary with the lockfile: match the shapes, each exactly once.
    const expected = [
      new RegExp(`^node_modules/@img/sharp-libvips-linux-${cpu}/lib/libvips-cpp\\.so\\.[\\d.]+$`),
      new RegExp(`^node_modules/@img/sharp-linux-${cpu}/lib/sharp-linux-${cpu}(?:-[\\d.]+)?\\.node$`),
      new RegExp(`^node_modules/onnxruntime-node/bin/napi-v\\d+/linux/${cpu}/libonnxruntime\\.so\\.1$`),
      new RegExp(`^node_modules/onnxruntime-node/bin/napi-v\\d+/linux/${cpu}/onnxruntime_binding\\.node$`),
    ];
    expect(binaries).toHaveLength(expected.length);
    for (const pattern of expected)
      expect(
        binaries.filter((entry) => pattern.test(entry.name)),
        String(pattern),
      ).toHaveLength(1);
    for (const entry of binaries) expect(binaryKind(entry.data, entry.name), entry.name).toEqual({ kind: 'elf', machine });
  });

  it('carries no other platform: no darwin, win32, musl or other-architecture directories', () => {
    const { entries } = bundles.get(architecture) ?? { entries: [] };
    const names = entries.map((entry) => entry.name);
    expect(names.filter((name) => /darwin|win32|musl|\.dll$|\.dylib$/.test(name))).toEqual([]);
    expect(names.filter((name) => name.includes(`linux-${otherCpu}`) || name.includes(`linux/${otherCpu}/`))).toEqual([]);
    expect(names.slice(0, 2)).toEqual(['handler.mjs', 'handler.mjs.map']);
    expect(names).toContain('node_modules/sharp/package.json');
    expect(names).toContain('node_modules/onnxruntime-common/package.json');
  });

  it('holds no ONNX model generator: @lambda-efs/onnx-models is a development package', () => {
    const { entries } = bundles.get(architecture) ?? { entries: [] };
    const map = JSON.parse(entries.find((entry) => entry.name === 'handler.mjs.map')?.data.toString('utf8') ?? '{"sources":[]}') as {
      sources: string[];
    };
    expect(map.sources.filter((source) => source.includes('apps/ml-inference/src/handler.ts'))).toHaveLength(1);
    expect(map.sources.filter((source) => /onnx-models|\/onnx\//.test(source))).toEqual([]);
    const code = entries.find((entry) => entry.name === 'handler.mjs')?.data.toString('utf8') ?? '';
    expect(code).not.toMatch(/\b(?:MessageWriter|encodeModel|buildDemoModel|buildResNet)\b/);
  });

  it('fits Lambda: under 50 MB zipped (direct upload) and 250 MB unzipped', () => {
    const { bundle } = bundles.get(architecture) ?? {};
    expect(bundle?.architecture).toBe(architecture);
    expect(bundle?.uploadViaS3).toBe(false);
    expect(bundle?.unzippedBytes).toBeLessThan(250 * 1024 * 1024);
    expect(bundle?.nativeModules.declared).toEqual(['onnxruntime-node', 'sharp']);
  });
});

describe('the x86_64 bundle, extracted outside the workspace', () => {
  it('classifies an image with onnxruntime-node and sharp from its own node_modules', async () => {
    const task = join(work.path, 'task-package');
    extract(bundles.get('x86_64')?.entries ?? [], task);
    const { result, logs, stderr } = await coldStart(task, { MODEL_DIR: modelsDir });
    expect(result['statusCode'], stderr).toBe(200);
    expect(JSON.parse(String(result['body']))).toMatchObject({ bird_class: 'red', model: { name: 'demo' } });
    expect(logs.find((line) => line['message'] === 'model loaded')?.['librariesFrom']).toBe('bundle');
  }, 120_000);

  it('classifies with the natives left out of the package and loaded from a NODE_MODULES_DIR built for the platform', async () => {
    const { mlAccessPoint } = await import('../fixtures/system.js');
    const efsFunction = defineFunction({
      ...functionDefinition,
      fileSystem: { accessPoint: mlAccessPoint, mountPath: '/mnt/inference', readOnly: true },
      nativeModules: { packages: ['onnxruntime-node', 'sharp'], from: 'file-system' },
    });
    const bundle = await bundleFunction(efsFunction, { outDir: join(work.path, 'file-system') });
    const entries = readZip(readFileSync(bundle.zipPath));
    expect(entries.map((entry) => entry.name)).toEqual(['handler.mjs', 'handler.mjs.map']);
    const task = join(work.path, 'task-file-system');
    extract(entries, task);
    const libraries = platformNodeModules(efsFunction.nativeModules.packages, {
      architecture: 'x86_64',
      resolveFrom: ML_PACKAGE,
      outDir: join(work.path, 'libraries', 'linux-x64'),
    });
    const { result, logs, stderr } = await coldStart(task, { MODEL_DIR: modelsDir, NODE_MODULES_DIR: libraries.nodeModulesDir });
    expect(result['statusCode'], stderr).toBe(200);
    expect(logs.find((line) => line['message'] === 'model loaded')?.['librariesFrom']).toBe(libraries.nodeModulesDir);
  }, 120_000);

  it('fails without its node_modules, saying the package lacks onnxruntime-node', async () => {
    const task = join(work.path, 'task-bare');
    extract(
      (bundles.get('x86_64')?.entries ?? []).filter((entry) => !entry.name.startsWith('node_modules/')),
      task,
    );
    const { result } = await coldStart(task, { MODEL_DIR: modelsDir });
    expect(result['statusCode']).toBe(503);
    expect(String(result['body'])).toMatch(/onnxruntime-node could not be loaded from the deployment package/);
  }, 120_000);
});
