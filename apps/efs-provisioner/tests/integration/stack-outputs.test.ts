// The CLIs read the bucket and the function name from the stack's Terraform outputs: here with
// real Terraform, on a configuration of outputs only (no provider, nothing leaves the machine).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readStackOutputs } from '../../src/cli/stack.js';
import { PublishError } from '../../src/errors.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stack-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stack(name: string, outputs: Record<string, unknown>, apply: boolean): Promise<string> {
  const stackDir = join(dir, name);
  await run('mkdir', ['-p', stackDir]);
  await writeFile(
    join(stackDir, 'main.tf.json'),
    JSON.stringify({ output: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value }])) }),
  );
  await run('terraform', ['init', '-input=false', '-no-color'], { cwd: stackDir });
  if (apply) await run('terraform', ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: stackDir });
  return stackDir;
}

describe('readStackOutputs', () => {
  it('reads artifact_bucket and function_names["efs-provisioner"] with terraform output -json', async () => {
    const stackDir = await stack(
      'deployed',
      {
        artifact_bucket: 'lambda-efs-dev-artifacts-1234',
        function_names: { 'efs-provisioner': 'lambda-efs-dev-efs-provisioner', 'ml-inference': 'x' },
      },
      true,
    );
    expect(await readStackOutputs('lambda-efs-dev', stackDir)).toEqual({
      bucket: 'lambda-efs-dev-artifacts-1234',
      functionName: 'lambda-efs-dev-efs-provisioner',
      source: 'the outputs of stack lambda-efs-dev',
    });
  });

  it('says the stack was not deployed from here when it has no state', async () => {
    const stackDir = await stack('undeployed', { artifact_bucket: 'b' }, false);
    await expect(readStackOutputs('lambda-efs-dev', stackDir)).rejects.toThrow(/has no outputs .*not been deployed from here/);
  });

  it('names the missing output of an older stack', async () => {
    const stackDir = await stack('older', { api_url: 'https://x', function_names: { 'message-wall': 'm' } }, true);
    await expect(readStackOutputs('lambda-efs-dev', stackDir)).rejects.toThrow(/no artifact_bucket: the stack predates the provisioner/);
  });

  it('says how to go on without a synthesized stack', async () => {
    const error = await readStackOutputs('lambda-efs-dev', join(dir, 'missing')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(/no synthesized stack lambda-efs-dev .*pass --bucket and --function/);
  });
});
