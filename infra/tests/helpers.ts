// Shared by the tests: bundles of the fixture handlers, and synthesizing a whole stack to JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SystemDefinition } from '@lambda-efs/function-spec';
import { Testing } from 'cdktf';
import type { Construct } from 'constructs';

import { bundleFunctions, type FunctionBundle } from '../src/bundling/bundle.js';
import type { InfraConfig } from '../src/config.js';
import type { ReleaseArtifact } from '../src/releases.js';
import { LambdaEfsStack } from '../src/stack.js';
import { fixtureConfig } from './fixtures/config.js';
import { fixtureSystem } from './fixtures/system.js';

/** A temporary directory, and a function that removes it. */
export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lambda-efs-infra-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Bundles the system's fixture handlers into `outDir` (onnxruntime-node stays external). */
export function bundleFixtures(system: SystemDefinition, outDir: string): Promise<ReadonlyMap<string, FunctionBundle>> {
  return bundleFunctions(system.functions, { outDir, externalModules: ['onnxruntime-node'] });
}

/** The synthesized Terraform JSON of one stack, parsed. */
export interface SynthesizedJson {
  terraform: Record<string, unknown>;
  provider: Record<string, unknown[]>;
  resource: Record<string, Record<string, Record<string, unknown>>>;
  output: Record<string, { value: unknown }>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  moved?: { from: string; to: string }[];
}

/** Synthesizes a whole stack (Testing.synth) and returns the JSON text and its parsed form. */
export function synthStack(
  bundles: ReadonlyMap<string, FunctionBundle>,
  config: InfraConfig = fixtureConfig(),
  system: SystemDefinition = fixtureSystem(),
  releases: readonly ReleaseArtifact[] = [],
): { text: string; json: SynthesizedJson; stack: LambdaEfsStack } {
  const app = Testing.app({ stackTraces: false });
  const stack = new LambdaEfsStack(app, config.namePrefix, { config, system, bundles, releases });
  const text = Testing.synth(stack);
  return { text, json: JSON.parse(text) as SynthesizedJson, stack };
}

/** The resources of one Terraform type, by name (empty when there are none). */
export function resources(json: SynthesizedJson, type: string): Record<string, Record<string, unknown>> {
  return json.resource[type] ?? {};
}

/** `Testing.synthScope`, returning the JSON text (for the matchers) and its parsed form. */
export function synthScope(build: (scope: Construct) => void): { text: string; json: SynthesizedJson } {
  const text = Testing.synthScope(build);
  return { text, json: JSON.parse(text) as SynthesizedJson };
}

/** A Terraform reference to an attribute of any resource of `type`: `${aws_kms_key.<name>.arn}`. */
export function referenceTo(type: string, attribute: string): RegExp {
  return new RegExp(`^\\$\\{${type}\\.[^.}]+\\.${attribute}\\}$`);
}
