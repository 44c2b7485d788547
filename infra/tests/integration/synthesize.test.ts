// synthesize(): from declarations to Terraform JSON files on disk, as `pnpm synth` does it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { defineFunction } from '@lambda-efs/function-spec';
import { afterAll, describe, expect, it } from 'vitest';

import { InfraError, MissingEntryError } from '../../src/errors.js';
import { synthesize } from '../../src/synth.js';
import { fixtureConfig, fixtureProdConfig } from '../fixtures/config.js';
import { efsProvisioner, fixtureSystem, messageWall, mlInference, unbuilt } from '../fixtures/system.js';
import { temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('synthesize');
afterAll(() => work.remove());

describe('synthesize', () => {
  it('writes one stack per environment, each with its own copy of the zipped bundles', async () => {
    const outdir = join(work.path, 'both');
    const result = await synthesize({ outdir, configs: [fixtureConfig(), fixtureProdConfig()], system: fixtureSystem() });
    expect(result.stacks.map((stack) => [stack.id, stack.directory])).toEqual([
      ['lambda-efs-dev', join(outdir, 'stacks', 'lambda-efs-dev')],
      ['lambda-efs-prod', join(outdir, 'stacks', 'lambda-efs-prod')],
    ]);
    for (const stack of result.stacks) {
      const json = JSON.parse(readFileSync(join(stack.directory, 'cdk.tf.json'), 'utf8')) as {
        resource: { aws_lambda_function: Record<string, { filename: string }> };
      };
      for (const fn of Object.values(json.resource.aws_lambda_function)) {
        expect(existsSync(join(stack.directory, fn.filename))).toBe(true);
      }
    }
    expect([...result.bundles.keys()]).toEqual(['message-wall', 'ml-inference', 'efs-provisioner']);
    expect(result.skipped).toEqual([]);
  });

  it("builds the default model's archive once, and copies it into each stack for its S3 object", async () => {
    const outdir = join(work.path, 'releases');
    const result = await synthesize({ outdir, configs: [fixtureConfig(), fixtureProdConfig()], system: fixtureSystem() });
    expect(result.releases.map((release) => [release.target, release.version])).toEqual([['models/demo', '1.0.0']]);
    for (const stack of result.stacks) {
      const json = JSON.parse(readFileSync(join(stack.directory, 'cdk.tf.json'), 'utf8')) as {
        resource: { aws_s3_object: Record<string, { source: string; key: string }> };
      };
      const objects = Object.values(json.resource.aws_s3_object);
      expect(objects).toHaveLength(1);
      const copied = readFileSync(join(stack.directory, objects[0]?.source ?? ''));
      expect(copied.equals(readFileSync(result.releases[0]?.archivePath ?? ''))).toBe(true);
    }
  });

  it('fails when a handler is not built, naming the function, the path and the build command', async () => {
    const error = await synthesize({
      outdir: join(work.path, 'missing'),
      configs: [fixtureConfig()],
      system: fixtureSystem([messageWall, unbuilt]),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingEntryError);
    expect((error as Error).message).toContain(`Function "unbuilt": its handler ${unbuilt.entry} does not exist. Build it first with \``);
    expect(existsSync(join(work.path, 'missing', 'stacks'))).toBe(false);
  });

  it('lists every unbuilt function at once', async () => {
    const second = { ...unbuilt, name: 'unbuilt-too', routes: ['GET /unbuilt-too' as const] };
    const error = await synthesize({
      outdir: join(work.path, 'missing-two'),
      configs: [fixtureConfig()],
      system: fixtureSystem([messageWall, unbuilt, second]),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).code).toBe('EMISSINGENTRY');
    expect((error as Error).message.split('\n')).toHaveLength(2);
  });

  it('leaves out unbuilt functions and their routes with onlyBuilt, and reports them', async () => {
    const outdir = join(work.path, 'only-built');
    const result = await synthesize({
      outdir,
      configs: [fixtureConfig()],
      system: fixtureSystem([messageWall, mlInference, efsProvisioner, unbuilt]),
      onlyBuilt: true,
    });
    expect(result.skipped.map((error) => error.functionName)).toEqual(['unbuilt']);
    expect(result.skippedReleases).toEqual([]);
    const text = readFileSync(join(outdir, 'stacks', 'lambda-efs-dev', 'cdk.tf.json'), 'utf8');
    expect(text).not.toContain('unbuilt');
    expect(text).toContain('lambda-efs-dev-ml-inference');
  });

  it('leaves out the default model with onlyBuilt when its provisioner is not built, and says so', async () => {
    const unbuiltProvisioner = defineFunction({ ...efsProvisioner, entry: unbuilt.entry });
    const base = fixtureConfig();
    const result = await synthesize({
      outdir: join(work.path, 'only-built-no-provisioner'),
      configs: [{ ...base, functions: { ...base.functions, reservedConcurrency: { 'efs-provisioner': 1 } } }],
      system: fixtureSystem([messageWall, mlInference, unbuiltProvisioner]),
      onlyBuilt: true,
    });
    expect(result.skipped.map((error) => error.functionName)).toEqual(['efs-provisioner']);
    expect(result.releases).toEqual([]);
    expect(result.skippedReleases).toEqual([expect.stringContaining('the default model (its provisioner "efs-provisioner" is not built)')]);
  });
});
