// What the model commands share: where the repository and its local EFS are, the models
// directory the function reads, paths relative to where the user typed the command, and
// printing errors as one readable line.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LOCAL_EFS_DIR, localAccessPointDir, localEnvironment } from '@lambda-efs/function-spec';

import { ModelInvalidError, MlInferenceError } from '../errors.js';
import { accessPoint, functionDefinition } from '../function.js';
import { InstallError } from '../install/install.js';

/** The directory the user ran the command in (pnpm scripts run in the package directory). */
export function userDirectory(): string {
  return process.env['INIT_CWD'] ?? process.cwd();
}

/** A path as typed by the user, made absolute against their directory. */
export function userPath(path: string): string {
  return resolve(userDirectory(), path);
}

/** The monorepo root (the directory with pnpm-workspace.yaml above this module), if any. */
export function repositoryRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `<repo>/.efs`, the local runtime's stand-in for the EFS file system. */
export function defaultEfsRoot(): string {
  const root = repositoryRoot();
  if (root === undefined) throw new InstallError('Cannot find the repository root (pnpm-workspace.yaml): pass --efs-root or --models-dir.');
  return join(root, LOCAL_EFS_DIR);
}

/**
 * The models directory and model name the function reads with the local runtime: the
 * declaration's MODEL_DIR and MODEL_NAME, rebased onto `<efsRoot>/ml` as the runtime does.
 */
export function localModelLocation(efsRoot: string): { modelsDir: string; name: string; accessPointDir: string } {
  const accessPointDir = localAccessPointDir(efsRoot, accessPoint);
  const env = localEnvironment(functionDefinition, accessPointDir);
  const modelsDir = env['MODEL_DIR'];
  const name = env['MODEL_NAME'];
  if (modelsDir === undefined || name === undefined) throw new InstallError('The ml-inference declaration has no MODEL_DIR or MODEL_NAME.');
  return { modelsDir, name, accessPointDir };
}

/** --models-dir, else $MODEL_DIR, else the local runtime's `<repo>/.efs/ml/models`. */
export function modelsDirFrom(flag: string | undefined): string {
  if (flag !== undefined) return userPath(flag);
  const fromEnv = process.env['MODEL_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return localModelLocation(defaultEfsRoot()).modelsDir;
}

/** Runs a command's main, printing known errors as one line (exit 1) and others with their stack. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof InstallError || error instanceof ModelInvalidError || error instanceof MlInferenceError) {
      process.stderr.write(`error: ${error.message}\n`);
    } else {
      process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 1;
  });
}
