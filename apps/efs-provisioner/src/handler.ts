// The Lambda adapter: event → core → result. Failures are thrown, so Lambda reports a function
// error (errorType: the class name, errorMessage: what to do), which fails `aws_lambda_invocation`
// during `terraform apply` and makes the model CLIs exit non-zero.
import { S3Client } from '@aws-sdk/client-s3';

import { loadConfig, type ProvisionerConfig } from './config.js';
import { provision } from './core/provision.js';
import { parseRequest, type ProvisionResult } from './core/request.js';
import { ProvisionerError } from './errors.js';

let cold: { config: ProvisionerConfig; s3: S3Client } | undefined;

/** Config and the S3 client, once per execution environment (a bad variable fails each invocation with its name). */
function environment(): { config: ProvisionerConfig; s3: S3Client } {
  if (cold === undefined) {
    const config = loadConfig();
    // The SDK reads AWS_REGION and AWS_ENDPOINT_URL_S3 itself; path style has no variable of its own.
    cold = { config, s3: new S3Client({ forcePathStyle: config.s3ForcePathStyle }) };
  }
  return cold;
}

function log(level: 'INFO' | 'WARN' | 'ERROR', message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, timestamp: new Date().toISOString(), service: 'efs-provisioner', ...fields }));
}

/**
 * Installs, activates, rolls back or prunes a release set (contract C1).
 * @example
 * await handler({ action: 'rollback', target: 'models/demo', to: '1.0.0' });
 */
export async function handler(event: unknown): Promise<ProvisionResult> {
  const { config, s3 } = environment();
  const request = parseRequest(event);
  try {
    const result = await provision(request, {
      root: config.root,
      s3,
      policy: { bucket: config.artifactBucket, prefix: config.artifactPrefix },
      limits: config.limits,
      log,
    });
    log('INFO', result.message, { ...result });
    return result;
  } catch (error) {
    log('ERROR', error instanceof Error ? error.message : String(error), {
      action: request.action,
      target: request.target,
      code: error instanceof ProvisionerError ? error.code : undefined,
    });
    throw error;
  }
}
