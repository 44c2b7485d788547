// The post's way for native libraries, as an option: a function declaring
// `nativeModules.from: 'file-system'` gets its platform's node_modules built at synth, installed by
// the provisioner (libraries/<platform>), and NODE_MODULES_DIR pointing at them.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { defineFunction } from '@lambda-efs/function-spec';
import { afterAll, describe, expect, it } from 'vitest';

import { bundleFunctions } from '../../src/bundling/bundle.js';
import { buildLibrariesReleases } from '../../src/releases.js';
import { fixtureConfig } from '../fixtures/config.js';
import { efsProvisioner, fixtureSystem, messageWall, mlAccessPoint } from '../fixtures/system.js';
import { resources, synthStack, temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('libraries');
afterAll(() => work.remove());

// An entry inside apps/ml-inference, whose package depends on sharp: the libraries resolve from there.
const mlInferenceDir = dirname(createRequire(import.meta.url).resolve('@lambda-efs/ml-inference/function'));
const onFileSystem = defineFunction({
  name: 'ml-inference',
  entry: join(mlInferenceDir, 'function.js'),
  architecture: 'x86_64',
  timeoutSeconds: 29,
  routes: ['GET /ml-inference'],
  fileSystem: { accessPoint: mlAccessPoint, mountPath: '/mnt/inference', readOnly: true },
  environment: { MODEL_DIR: '/mnt/inference/models', MODEL_NAME: 'demo' },
  nativeModules: { packages: ['sharp'], from: 'file-system' },
});

describe('native libraries on the file system', () => {
  it('builds one libraries release per platform, named by its hash, with linux x64 binaries only', { timeout: 180_000 }, async () => {
    const [release, ...others] = await buildLibrariesReleases([messageWall, onFileSystem], join(work.path, 'releases'));
    expect(others).toEqual([]);
    expect(release).toMatchObject({
      target: 'libraries/linux-x64',
      description: 'the native libraries of ml-inference (libraries/linux-x64)',
    });
    expect(release?.version).toBe(release?.sha256Hex.slice(0, 16));
    const listing = execFileSync('tar', ['-tzf', release?.archivePath ?? ''], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split(
      '\n',
    );
    expect(listing).toEqual(expect.arrayContaining([expect.stringMatching(/^(\.\/)?node_modules\/sharp\/package\.json$/)]));
    const addons = listing.filter((entry) => entry.endsWith('.node'));
    expect(addons.length).toBeGreaterThan(0);
    expect(addons.every((entry) => /linux-x64/.test(entry))).toBe(true);

    const system = fixtureSystem([messageWall, onFileSystem, efsProvisioner]);
    const bundles = await bundleFunctions(system.functions, { outDir: join(work.path, 'bundles') });
    const { json } = synthStack(bundles, fixtureConfig(), system, release === undefined ? [] : [release]);
    const ml = resources(json, 'aws_lambda_function')['functions_ml-inference_function'];
    expect((ml?.['environment'] as { variables: Record<string, string> }).variables['NODE_MODULES_DIR']).toBe(
      '/mnt/inference/libraries/linux-x64/current/node_modules',
    );
    const invocation = resources(json, 'aws_lambda_invocation')['provisioning_libraries-linux-x64-install'];
    expect(JSON.parse(invocation?.['input'] as string)).toMatchObject({
      action: 'install',
      target: 'libraries/linux-x64',
      version: release?.version,
    });

    // Without the release, the stack refuses rather than deploy a function that cannot load its modules.
    expect(() => synthStack(bundles, fixtureConfig(), system, [])).toThrow(
      'Function "ml-inference" loads its native modules from the file system, but the stack has no libraries/linux-x64 release to install there',
    );
  });
});
