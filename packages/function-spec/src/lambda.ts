import type { FunctionDefinition } from './types.js';

/**
 * The file name infra gives each function's bundle inside its deployment package: the bundler
 * (esbuild) turns `entry` and its imports into this one ES module at the package root.
 * `.mjs` makes Lambda load it as ESM without a package.json. The name is fixed rather than taken
 * from `entry` because Lambda splits `_HANDLER` at the first ".", so "handler.lambda.js" would break.
 */
export const LAMBDA_BUNDLE_FILE_NAME = 'handler.mjs';

/**
 * Lambda's `Handler` setting (`_HANDLER` in the environment) for a function bundled as
 * {@link LAMBDA_BUNDLE_FILE_NAME}: `<bundle name without extension>.<export>`.
 * @example
 * lambdaHandler(functionDefinition); // 'handler.handler'
 */
export function lambdaHandler(definition: Pick<FunctionDefinition, 'handlerExport'>): string {
  return `${LAMBDA_BUNDLE_FILE_NAME.replace(/\.mjs$/, '')}.${definition.handlerExport}`;
}
