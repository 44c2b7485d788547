// What the two commands share: the flags that say where the deployment is, the AWS clients, and
// printing errors as one readable line (exit 1).
import { resolve } from 'node:path';

import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';

import { ProvisionerError, PublishError } from '../errors.js';
import { readStackOutputs, type Deployment } from './stack.js';

/** The flags both commands take (node:util parseArgs options). */
export const DEPLOYMENT_FLAGS = {
  stack: { type: 'string' },
  bucket: { type: 'string' },
  function: { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  's3-endpoint-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DEPLOYMENT_HELP = `Where the deployment is:
  --stack <name>             read artifact_bucket and function_names from the stack's Terraform outputs
                             (terraform output -json in infra/cdktf.out/stacks/<name>), e.g. lambda-efs-dev
  --bucket <name>            the artifact bucket (instead of, or overriding, the stack's)
  --function <name>          the provisioner's function name (instead of, or overriding, the stack's)
  --region <region>          AWS region (default: AWS_REGION / your AWS profile)
  --endpoint-url <url>       Lambda Invoke API endpoint, e.g. the local runtime's http://127.0.0.1:3001
  --s3-endpoint-url <url>    S3 endpoint (path-style), e.g. a local S3 server
AWS credentials come from the usual places (environment, profile, SSO).
`;

export interface DeploymentFlags {
  readonly stack?: string | undefined;
  readonly bucket?: string | undefined;
  readonly function?: string | undefined;
  readonly region?: string | undefined;
  readonly 'endpoint-url'?: string | undefined;
  readonly 's3-endpoint-url'?: string | undefined;
}

/** The bucket and function from explicit flags, else from the stack's outputs. */
export async function resolveDeployment(flags: DeploymentFlags, needBucket: boolean): Promise<Deployment> {
  const haveExplicit = flags.function !== undefined && (!needBucket || flags.bucket !== undefined);
  if (haveExplicit) return { bucket: flags.bucket ?? '', functionName: flags.function as string, source: 'the flags' };
  if (flags.stack === undefined) {
    throw new PublishError(
      `Say where the deployment is: --stack <name> (e.g. lambda-efs-dev), or ${needBucket ? '--bucket and ' : ''}--function.`,
    );
  }
  const fromStack = await readStackOutputs(flags.stack);
  return { bucket: flags.bucket ?? fromStack.bucket, functionName: flags.function ?? fromStack.functionName, source: fromStack.source };
}

function checkUrl(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new PublishError(`--${flag} "${value}" is not an http(s) URL.`);
  }
  return value;
}

/** The S3 and Lambda clients the flags describe. */
export function clients(flags: DeploymentFlags): { s3: S3Client; lambda: LambdaClient } {
  const lambdaEndpoint = checkUrl('endpoint-url', flags['endpoint-url']);
  const s3Endpoint = checkUrl('s3-endpoint-url', flags['s3-endpoint-url']);
  // A local endpoint needs some region to sign with; AWS needs the real one.
  const region =
    flags.region ??
    process.env['AWS_REGION'] ??
    process.env['AWS_DEFAULT_REGION'] ??
    (lambdaEndpoint !== undefined || s3Endpoint !== undefined ? 'us-east-1' : undefined);
  const common = region === undefined ? {} : { region };
  return {
    s3: new S3Client({ ...common, ...(s3Endpoint === undefined ? {} : { endpoint: s3Endpoint, forcePathStyle: true }) }),
    lambda: new LambdaClient({ ...common, ...(lambdaEndpoint === undefined ? {} : { endpoint: lambdaEndpoint }) }),
  };
}

/** A path as typed by the user (pnpm runs root scripts in the repository root; INIT_CWD is where they typed). */
export function userPath(path: string): string {
  return resolve(process.env['INIT_CWD'] ?? process.cwd(), path);
}

/** Runs a command's main: errors become one line on stderr and exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (
      error instanceof ProvisionerError ||
      (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('E'))
    ) {
      process.stderr.write(`Error: ${error.message}\n`);
    } else if (error instanceof Error && /region is missing/i.test(error.message)) {
      process.stderr.write('Error: no AWS region: pass --region, or set AWS_REGION.\n');
    } else {
      process.stderr.write(`Error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 1;
  });
}
