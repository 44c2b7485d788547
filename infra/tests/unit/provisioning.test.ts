// The deploy provisions EFS without EC2: the default model's release archive, built at synth,
// becomes an S3 object and an invocation of the provisioner with C1's install event.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { extractTarGz } from '@lambda-efs/efs-provisioner/archive';
import { afterAll, describe, expect, it } from 'vitest';

import { buildModelRelease, librariesNodeModulesDir, librariesTarget, type ReleaseArtifact } from '../../src/releases.js';
import { synthesize } from '../../src/synth.js';
import { fixtureConfig } from '../fixtures/config.js';
import { fixtureSystem, messageWall, mlInference } from '../fixtures/system.js';
import { bundleFixtures, resources, synthStack, temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('provisioning');
afterAll(() => work.remove());
const bundles = await bundleFixtures(fixtureSystem(), join(work.path, 'bundles'));
const demo = await buildModelRelease({ source: 'demo' }, join(work.path, 'releases'));

describe('the default model release', () => {
  it('packs the generated demo model (model.onnx, labels.txt, model.json) as models/demo 1.0.0', () => {
    expect(demo).toMatchObject({ target: 'models/demo', version: '1.0.0', description: 'the demo model' });
    expect(demo.sha256Hex).toMatch(/^[0-9a-f]{64}$/);
    const listing = execFileSync('tar', ['-tzf', demo.archivePath], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '');
    expect(listing.map((entry) => entry.replace(/^\.\//, '')).sort()).toEqual(['labels.txt', 'model.json', 'model.onnx']);
    expect(execFileSync('tar', ['-xzOf', demo.archivePath, 'labels.txt'], { encoding: 'utf8' })).toBe(
      'black\nwhite\nred\ngreen\nblue\nyellow\ncyan\nmagenta\n',
    );
  });

  it('is byte-identical when built again, so an unchanged model is never re-installed', async () => {
    const again = await buildModelRelease({ source: 'demo' }, join(work.path, 'releases-again'));
    expect(again.sha256Hex).toBe(demo.sha256Hex);
    expect(readFileSync(again.archivePath).equals(readFileSync(demo.archivePath))).toBe(true);
  });

  it('packs a configured model directory under its own name and version', async () => {
    const dir = join(work.path, 'birds');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), 'not really onnx');
    writeFileSync(join(dir, 'labels.txt'), 'sparrow\n');
    writeFileSync(join(dir, 'model.json'), '{}\n');
    const release = await buildModelRelease(
      { source: 'directory', directory: dir, name: 'birds', version: '2.1.0' },
      join(work.path, 'releases'),
    );
    expect(release).toMatchObject({ target: 'models/birds', version: '2.1.0' });
  });

  it('refuses a configured directory without the files the provisioner requires, naming them', async () => {
    const dir = join(work.path, 'half');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), 'x');
    await expect(
      buildModelRelease({ source: 'directory', directory: dir, name: 'x', version: '1' }, join(work.path, 'releases')),
    ).rejects.toThrow(/has no labels\.txt, model\.json: give the directory of a model release \(model\.onnx, labels\.txt, model\.json; /);
  });

  it("is an archive the provisioner's own reader extracts, with the SHA-256 infra puts in the event", async () => {
    const dest = join(work.path, 'extracted');
    mkdirSync(dest);
    const result = await extractTarGz(createReadStream(demo.archivePath), dest);
    expect(result.sha256Hex).toBe(demo.sha256Hex);
    expect([...result.digests.keys()].sort()).toEqual(['labels.txt', 'model.json', 'model.onnx']);
  });
});

describe('provisioning in the stack', () => {
  const { json, stack } = synthStack(bundles, fixtureConfig(), fixtureSystem(), [demo]);
  const objects = resources(json, 'aws_s3_object');
  const invocations = resources(json, 'aws_lambda_invocation');

  it('uploads the archive under releases/<target>/<version>/<sha256>.tar.gz from a Terraform asset', () => {
    expect(Object.values(objects)).toEqual([
      expect.objectContaining({
        bucket: '${aws_s3_bucket.artifacts_bucket.id}',
        key: `releases/models/demo/1.0.0/${demo.sha256Hex}.tar.gz`,
        source: expect.stringMatching(new RegExp(`^assets/[^/]+/${demo.sha256Hex}/models-demo-1\\.0\\.0\\.tar\\.gz$`)) as unknown,
        source_hash: demo.md5Hex,
        checksum_algorithm: 'SHA256',
      }),
    ]);
  });

  it('invokes the provisioner with the install event: object version id, sha256, activate', () => {
    const [address, invocation] = Object.entries(invocations)[0] ?? [];
    expect(address).toBe('provisioning_models-demo-install');
    const objectAddress = Object.keys(objects)[0] ?? '';
    expect(invocation?.['function_name']).toBe('${aws_lambda_function.functions_efs-provisioner_function.function_name}');
    expect(JSON.parse(invocation?.['input'] as string)).toEqual({
      action: 'install',
      target: 'models/demo',
      version: '1.0.0',
      artifact: {
        bucket: '${aws_s3_bucket.artifacts_bucket.id}',
        key: `\${aws_s3_object.${objectAddress}.key}`,
        versionId: `\${aws_s3_object.${objectAddress}.version_id}`,
        sha256: demo.sha256Hex,
      },
      activate: true,
    });
  });

  it('outputs what the provisioner answered, by release target', () => {
    expect(json.output['provisioned_releases']?.value).toEqual({
      'models/demo': '${aws_lambda_invocation.provisioning_models-demo-install.result}',
    });
  });

  it('runs again only when the archive changes (its hash is the trigger)', () => {
    expect(Object.values(invocations)[0]?.['triggers']).toEqual({ archive_sha256: demo.sha256Hex });
  });

  it('waits for the provisioner, the object, every mount target and the route to S3', () => {
    const dependsOn = Object.values(invocations)[0]?.['depends_on'] as string[];
    const mountTargets = Object.keys(resources(json, 'aws_efs_mount_target')).map((name) => `aws_efs_mount_target.${name}`);
    expect(mountTargets).toHaveLength(2);
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        'aws_lambda_function.functions_efs-provisioner_function',
        `aws_s3_object.${Object.keys(objects)[0] ?? ''}`,
        ...mountTargets,
        'aws_vpc_endpoint.network_s3-endpoint',
      ]),
    );
  });

  it('tells the provisioner its bucket and the prefix its role may read (ARTIFACT_BUCKET, ARTIFACT_PREFIX)', () => {
    const provisioner = resources(json, 'aws_lambda_function')['functions_efs-provisioner_function'];
    expect((provisioner?.['environment'] as { variables: Record<string, string> }).variables).toMatchObject({
      ARTIFACT_BUCKET: '${aws_s3_bucket.artifacts_bucket.id}',
      ARTIFACT_PREFIX: 'releases/',
      PROVISION_ROOT: '/mnt/ml',
    });
  });

  it('has no warning when a function on the same access point serves the model (MODEL_NAME=demo)', () => {
    expect(stack.warnings).toEqual([]);
  });

  it('warns when no function serves the installed model', () => {
    const otherName = { ...mlInference, environment: { ...mlInference.environment, MODEL_NAME: 'birds' } };
    const { stack: unserved } = synthStack(
      bundles,
      fixtureConfig(),
      fixtureSystem([messageWall, otherName, fixtureSystem().functions[2]!]),
      [demo],
    );
    expect(unserved.warnings).toEqual([
      expect.stringContaining('installs the demo model as models/demo, but no function on the same access point serves it'),
    ]);
  });

  it('refuses releases when the system has no provisioner', () => {
    expect(() => synthStack(bundles, fixtureConfig(), fixtureSystem([messageWall, mlInference]), [demo])).toThrow(
      /through function "efs-provisioner", which is not in the system: add it \(apps\/efs-provisioner\) or set artifacts\.defaultModel to null/,
    );
  });

  it('plans no provisioning when there is no release', () => {
    const none = synthStack(bundles);
    expect(resources(none.json, 'aws_lambda_invocation')).toEqual({});
    expect(resources(none.json, 'aws_s3_object')).toEqual({});
  });
});

describe('native libraries on the file system', () => {
  it('names one release set per platform and the directory the function loads from', () => {
    expect(librariesTarget('x86_64')).toBe('libraries/linux-x64');
    expect(librariesTarget('arm64')).toBe('libraries/linux-arm64');
    expect(librariesNodeModulesDir(mlInference)).toBe('/mnt/inference/libraries/linux-x64/current/node_modules');
  });
});

describe('synthesize() and the default model', () => {
  it('refuses to synthesize a default model without its provisioner, saying what to do', async () => {
    await expect(
      synthesize({ outdir: join(work.path, 'out'), configs: [fixtureConfig()], system: fixtureSystem([messageWall, mlInference]) }),
    ).rejects.toThrow(
      /artifacts\.provisioner "efs-provisioner" is invalid: the deploy installs artifacts\.defaultModel through it, but no such function is declared/,
    );
  });

  it('synthesizes without provisioning when the default model is switched off', async () => {
    const base = fixtureConfig();
    const result = await synthesize({
      outdir: join(work.path, 'out-none'),
      configs: [{ ...base, artifacts: { ...base.artifacts, defaultModel: null } }],
      system: fixtureSystem([messageWall, mlInference]),
    });
    expect(result.releases).toEqual([] satisfies ReleaseArtifact[]);
  });
});
