// The ONNX model generators live in @lambda-efs/onnx-models, a development package: nothing the
// Lambda handler imports may reach them (so the deployment bundle cannot carry them), and the
// model.json they write must be exactly what this package's model:install reads and writes back.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildDemoModel, modelJsonText, writeDemoModel } from '@lambda-efs/onnx-models';
import { describe, expect, it } from 'vitest';

import { parseModelConfig, serializeModelConfig, type ModelConfigFile } from '../../src/core/model-config.js';
import { tempDir } from '../helpers/models.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const PACKAGE_JSON = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
};

/** Every module specifier a TypeScript file imports or re-exports (static and dynamic). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((match) => match[1] as string);
}

/** The src files reachable from `entry` through relative imports (.js specifiers name .ts files). */
function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  }
  return seen;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the generators stay out of the Lambda function', () => {
  it('no module the handler reaches imports @lambda-efs/onnx-models', () => {
    const reachable = reachableFrom(join(SRC, 'handler.ts'));
    expect(reachable.size).toBeGreaterThan(5);
    const offenders = [...reachable].filter((file) => importsOf(file).some((specifier) => specifier.startsWith('@lambda-efs/onnx-models')));
    expect(offenders).toEqual([]);
  });

  it('only the development commands model:demo and model:generate import the generators', () => {
    const importers = sourceFiles(SRC)
      .filter((file) => importsOf(file).some((specifier) => specifier.startsWith('@lambda-efs/onnx-models')))
      .map((file) => file.slice(SRC.length));
    expect(importers.sort()).toEqual(['cli/model-demo.ts', 'cli/model-generate.ts']);
  });

  it('src holds no ONNX encoder or generator of its own', () => {
    const generatorCode = sourceFiles(SRC).filter((file) =>
      /\b(?:class MessageWriter|function encodeModel|function buildDemoModel|function buildResNet)\b/.test(readFileSync(file, 'utf8')),
    );
    expect(generatorCode).toEqual([]);
  });

  it('declares the generators a devDependency and exports none of them', () => {
    expect(PACKAGE_JSON.devDependencies?.['@lambda-efs/onnx-models']).toBe('workspace:*');
    expect(PACKAGE_JSON.dependencies?.['@lambda-efs/onnx-models']).toBeUndefined();
    expect(Object.keys(PACKAGE_JSON.exports).filter((name) => /demo-model|model-writer|onnx/.test(name))).toEqual([]);
  });
});

describe('a generated model.json', () => {
  it('is what model:install writes: parsed and serialized again, the same text', async () => {
    const { dir, cleanup } = await tempDir('ml-generated-');
    try {
      await writeDemoModel(dir);
      const text = await readFile(join(dir, 'model.json'), 'utf8');
      expect(serializeModelConfig(parseModelConfig(text, 'generated demo'))).toBe(text);
      expect(parseModelConfig(text, 'generated demo')).toMatchObject({ input: 'image', output: 'probabilities', softmax: false });
    } finally {
      await cleanup();
    }
  });

  it('fills in model:install defaults for the fields a generator leaves out (the benchmark model)', () => {
    const text = modelJsonText({ input: 'image', output: 'logits', softmax: true, description: 'benchmark' });
    expect(serializeModelConfig(parseModelConfig(text, 'generated benchmark'))).toBe(text);
  });

  it('has the fields of this package model.json (the types agree)', () => {
    const config: ModelConfigFile = buildDemoModel().config;
    expect(config.crop).toEqual({ width: 448, height: 448 });
  });
});
