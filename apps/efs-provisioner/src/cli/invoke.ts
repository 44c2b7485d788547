import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

import type { ProvisionRequest, ProvisionResult } from '../core/request.js';
import { PublishError } from '../errors.js';

/**
 * Invokes the provisioner synchronously and returns its result.
 * @throws {PublishError} the invoke failed, or the provisioner reported a function error (its
 *   errorType and errorMessage, which say what to do).
 */
export async function invokeProvisioner(lambda: LambdaClient, functionName: string, request: ProvisionRequest): Promise<ProvisionResult> {
  let response;
  try {
    response = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(request)) }),
    );
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new PublishError(
      `Invoking ${functionName} failed: ${name}: ${message}. Check the function name (--function or the stack's outputs), the region (--region or AWS_REGION) and your credentials.`,
      { cause: error },
    );
  }
  const text = response.Payload === undefined ? '' : Buffer.from(response.Payload).toString('utf8');
  if (response.FunctionError !== undefined) {
    let detail = text;
    try {
      const payload = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      detail = `${payload.errorType ?? 'Error'}: ${payload.errorMessage ?? text}`;
    } catch {
      // not JSON: show it as it is
    }
    throw new PublishError(`The provisioner (${functionName}) failed: ${detail}`);
  }
  try {
    return JSON.parse(text) as ProvisionResult;
  } catch (error) {
    throw new PublishError(`The provisioner (${functionName}) answered something that is not JSON: ${text.slice(0, 200)}`, {
      cause: error,
    });
  }
}

/** What the CLIs print after the provisioner answered. */
export function describeResult(result: ProvisionResult): string {
  const lines = [result.message];
  lines.push(
    `  active: ${result.active ?? 'none'}   previous: ${result.previous ?? 'none'}   releases: ${result.releases.join(', ') || 'none'}`,
  );
  if (result.pruned.length > 0) lines.push(`  pruned: ${result.pruned.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
