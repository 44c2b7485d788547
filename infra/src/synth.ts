// From declarations and configurations to Terraform JSON on disk: check the entries, bundle the
// functions, build one stack per configuration, synthesize. Used by `pnpm synth` (main.ts), the
// offline plan (plan.ts) and the integration tests.
import { join } from 'node:path';

import { defineSystem, type SystemDefinition } from '@lambda-efs/function-spec';
import { App } from 'cdktf';

import { bundleFunctions, checkEntries, staleEntryWarning, type FunctionBundle } from './bundling/bundle.js';
import type { InfraConfig } from './config.js';
import { InfraError, type MissingEntryError } from './errors.js';
import { LambdaEfsStack } from './stack.js';

export interface SynthOptions {
  /** Where to write: `<outdir>/stacks/<stack id>/cdk.tf.json` and `<outdir>/bundles/<function>/`. */
  readonly outdir: string;
  /** One stack per configuration, named `<namePrefix>` (e.g. `lambda-efs-dev`). */
  readonly configs: readonly InfraConfig[];
  readonly system: SystemDefinition;
  /**
   * Leave out functions whose entry is not built instead of failing (their routes go too). The
   * result lists them in `skipped`; callers must say so loudly.
   * @default false
   */
  readonly onlyBuilt?: boolean;
}

export interface SynthesizedStack {
  readonly id: string;
  readonly environment: string;
  /** The directory to run terraform in. */
  readonly directory: string;
  readonly warnings: readonly string[];
}

export interface SynthResult {
  readonly stacks: readonly SynthesizedStack[];
  /** Functions left out because their entry is not built (only with `onlyBuilt`). */
  readonly skipped: readonly MissingEntryError[];
  /** Functions whose entry is older than their package's sources (bundled anyway). */
  readonly staleEntries: readonly string[];
  readonly bundles: ReadonlyMap<string, FunctionBundle>;
}

/**
 * Synthesizes one stack per configuration into `outdir`.
 * @throws {MissingEntryError} when a function's entry is not built (unless `onlyBuilt`).
 * @throws {InfraConfigError} when a configuration breaks a rule.
 * @throws {BundleError} when esbuild cannot bundle an entry.
 */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const { built, missing } = checkEntries(options.system.functions);
  if (missing.length > 0 && options.onlyBuilt !== true) {
    if (missing.length === 1 && missing[0] !== undefined) throw missing[0];
    throw new InfraError('EMISSINGENTRY', missing.map((error) => error.message).join('\n'));
  }
  const system = missing.length === 0 ? options.system : defineSystem(built);
  const staleEntries = system.functions.flatMap((fn) => staleEntryWarning(fn) ?? []);
  // Every environment deploys the same code: bundle once. Native modules stay external for all.
  const externalModules = [...new Set(options.configs.flatMap((config) => config.functions.externalModules))];
  const bundles = await bundleFunctions(system.functions, { outDir: join(options.outdir, 'bundles'), externalModules });

  const app = new App({ outdir: options.outdir, stackTraces: false });
  const stacks = options.configs.map((config) => {
    const stack = new LambdaEfsStack(app, config.namePrefix, { config, system, bundles });
    return {
      id: config.namePrefix,
      environment: config.environment,
      directory: join(options.outdir, 'stacks', config.namePrefix),
      warnings: stack.warnings,
    };
  });
  app.synth();
  return { stacks, skipped: missing, staleEntries, bundles };
}
