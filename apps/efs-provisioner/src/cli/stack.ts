// Where the CLIs find the artifact bucket and the provisioner's function name: the stack's
// Terraform outputs (`artifact_bucket`, `function_names["efs-provisioner"]`), read with
// `terraform output -json` in infra/cdktf.out/stacks/<stack>, or explicit flags.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { PublishError } from '../errors.js';

const run = promisify(execFile);
const PROVISIONER = 'efs-provisioner';

/** Where to upload and what to invoke. */
export interface Deployment {
  readonly bucket: string;
  readonly functionName: string;
  /** Where the values came from, for messages. */
  readonly source: string;
}

/** The monorepo root (the directory with pnpm-workspace.yaml above this module), if any. */
export function repositoryRoot(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** infra/cdktf.out/stacks/<stack> in the repository. */
export function stackDirectory(stack: string, root = repositoryRoot()): string {
  if (root === undefined)
    throw new PublishError('Cannot find the repository root (pnpm-workspace.yaml): pass --bucket and --function instead of --stack.');
  return join(root, 'infra', 'cdktf.out', 'stacks', stack);
}

type Outputs = Record<string, { value?: unknown } | undefined>;

/**
 * Reads the stack's outputs with `terraform output -json`.
 * @throws {PublishError} no synthesized stack, no terraform, no state, missing outputs.
 */
export async function readStackOutputs(
  stack: string,
  dir = stackDirectory(stack),
  terraform = process.env['TERRAFORM_BINARY'] ?? 'terraform',
): Promise<Deployment> {
  if (!/^[A-Za-z0-9_-]+$/.test(stack)) throw new PublishError(`--stack "${stack}" is not a stack name (e.g. lambda-efs-dev).`);
  if (!existsSync(dir)) {
    throw new PublishError(
      `There is no synthesized stack ${stack} (${dir} does not exist). Deploy it first (pnpm synth, then cdktf deploy ${stack}), or pass --bucket and --function.`,
    );
  }
  let stdout: string;
  try {
    ({ stdout } = await run(terraform, ['output', '-json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT')
      throw new PublishError(`terraform is not on PATH: install Terraform (≥ 1.10), or pass --bucket and --function.`, { cause: error });
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new PublishError(
      `terraform output -json failed in ${dir}: ${stderr || String(error)}. Run terraform init there (cdktf deploy does), or pass --bucket and --function.`,
      { cause: error },
    );
  }
  let outputs: Outputs;
  try {
    outputs = JSON.parse(stdout) as Outputs;
  } catch (error) {
    throw new PublishError(`terraform output -json in ${dir} printed something that is not JSON.`, { cause: error });
  }
  if (Object.keys(outputs).length === 0) {
    throw new PublishError(
      `The stack ${stack} has no outputs in ${dir}: it has not been deployed from here (no state). Deploy it (cdktf deploy ${stack}), or pass --bucket and --function.`,
    );
  }
  return deploymentFromOutputs(outputs, `the outputs of stack ${stack}`);
}

/** Picks the bucket and the provisioner's name out of the outputs. */
export function deploymentFromOutputs(outputs: Outputs, source: string): Deployment {
  const bucket = outputs['artifact_bucket']?.value;
  if (typeof bucket !== 'string' || bucket === '') {
    throw new PublishError(
      `${source} have no artifact_bucket: the stack predates the provisioner. Deploy the current stack, or pass --bucket.`,
    );
  }
  const names = outputs['function_names']?.value;
  const functionName = typeof names === 'object' && names !== null ? (names as Record<string, unknown>)[PROVISIONER] : undefined;
  if (typeof functionName !== 'string' || functionName === '') {
    throw new PublishError(
      `${source} have no function_names["${PROVISIONER}"]: the stack predates the provisioner. Deploy the current stack, or pass --function.`,
    );
  }
  return { bucket, functionName, source };
}
