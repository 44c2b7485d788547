// From declarations and configurations to Terraform JSON on disk: check the entries, bundle the
// functions, build one stack per configuration, synthesize. Used by `pnpm synth` (main.ts), the
// offline plan (plan.ts) and the integration tests.
import { join } from 'node:path';

import { defineSystem, type SystemDefinition } from '@lambda-efs/function-spec';
import { App } from 'cdktf';

import { bundleFunctions, checkEntries, staleEntryWarning, type FunctionBundle } from './bundling/bundle.js';
import { validateConfig, type InfraConfig } from './config.js';
import { InfraConfigError, InfraError, type MissingEntryError } from './errors.js';
import { buildLibrariesReleases, buildModelRelease, type ReleaseArtifact } from './releases.js';
import { declaredRouteFor } from './route-authorization.js';
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
  /** Release archives built for the stacks (default model, native libraries), each once. */
  readonly releases: readonly ReleaseArtifact[];
  /** What was left out because of `onlyBuilt` besides functions (a default model without its provisioner). */
  readonly skippedReleases: readonly string[];
}

/**
 * A configuration without the settings of functions that are not in `system` (left out by
 * `onlyBuilt`): their reserved concurrency, their egress, their routes' authorization, and the default model when its
 * provisioner is gone. What was dropped goes to `dropped`.
 */
function withoutMissingFunctions(config: InfraConfig, system: SystemDefinition, dropped: string[]): InfraConfig {
  const names = new Set(system.functions.map((fn) => fn.name));
  const keepModel = config.artifacts.defaultModel === null || names.has(config.artifacts.provisioner);
  if (!keepModel) {
    dropped.push(
      `${config.namePrefix}: the default model (its provisioner "${config.artifacts.provisioner}" is not built), so ml-inference will answer 503 until a model is published`,
    );
  }
  return {
    ...config,
    functions: {
      ...config.functions,
      reservedConcurrency: Object.fromEntries(Object.entries(config.functions.reservedConcurrency).filter(([name]) => names.has(name))),
      plainHttpEgress: config.functions.plainHttpEgress.filter((name) => names.has(name)),
    },
    artifacts: keepModel ? config.artifacts : { ...config.artifacts, defaultModel: null },
    // The authorization of routes whose function is left out (their routes are gone with it).
    api: {
      ...config.api,
      routeAuthorization: Object.fromEntries(
        Object.entries(config.api.routeAuthorization).filter(([routeKey]) => declaredRouteFor(routeKey, system.routes) !== undefined),
      ),
    },
  };
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

  const skippedReleases: string[] = [];
  const configs =
    missing.length === 0 ? options.configs : options.configs.map((config) => withoutMissingFunctions(config, system, skippedReleases));
  // Every problem of every configuration before any archive is built.
  for (const config of configs) {
    validateConfig(config, system);
    const provisioner = system.functions.find((fn) => fn.name === config.artifacts.provisioner);
    if (config.artifacts.defaultModel !== null && (provisioner?.fileSystem == null || provisioner.fileSystem.readOnly)) {
      throw new InfraConfigError(`Configuration of "${config.environment}"`, [
        `artifacts.provisioner ${JSON.stringify(config.artifacts.provisioner)} is invalid: the deploy installs artifacts.defaultModel through it, ` +
          (provisioner === undefined
            ? `but no such function is declared (declared: ${system.functions.map((fn) => fn.name).join(', ')}); add it to the system or set artifacts.defaultModel to null.`
            : 'but it does not mount an access point read-write; declare fileSystem without readOnly.'),
      ]);
    }
  }

  // Release archives, built once and shared by the stacks that install the same thing.
  const releasesDir = join(options.outdir, 'releases');
  const models = new Map<string, Promise<ReleaseArtifact>>();
  const modelOf = (config: InfraConfig): Promise<ReleaseArtifact> | null => {
    const model = config.artifacts.defaultModel;
    if (model === null) return null;
    const key = JSON.stringify(model);
    let release = models.get(key);
    if (release === undefined) {
      release = buildModelRelease(model, releasesDir);
      models.set(key, release);
    }
    return release;
  };
  const libraries = await buildLibrariesReleases(system.functions, releasesDir);
  const releasesByConfig = await Promise.all(
    configs.map(async (config) => {
      const model = modelOf(config);
      return [...libraries, ...(model === null ? [] : [await model])];
    }),
  );

  const app = new App({ outdir: options.outdir, stackTraces: false });
  const stacks = configs.map((config, index) => {
    const releases = releasesByConfig[index] ?? [];
    const stack = new LambdaEfsStack(app, config.namePrefix, { config, system, bundles, releases });
    return {
      id: config.namePrefix,
      environment: config.environment,
      directory: join(options.outdir, 'stacks', config.namePrefix),
      warnings: stack.warnings,
    };
  });
  app.synth();
  const releases = [...new Set(releasesByConfig.flat())];
  return { stacks, skipped: missing, staleEntries, bundles, releases, skippedReleases };
}
