#!/usr/bin/env node
// `pnpm --filter @lambda-efs/infra plan [--keep]`: synthesizes dev with the offline mock provider into a
// temporary directory, then terraform init (preinstalled provider when there is one), validate and
// plan. Nothing reaches AWS. Prints the planned resources by type.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { environmentConfig, readDeployEnvironment, readSynthEnvironment, type InfraConfig } from './config.js';
import { reportFailure } from './report.js';
import { synthesize } from './synth.js';
import { appSystem } from './system.js';
import { offlinePlan } from './terraform/terraform.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } }, strict: true });
  const run = readSynthEnvironment(process.env);
  const dev = environmentConfig('dev', readDeployEnvironment(process.env));
  const config: InfraConfig = {
    ...dev,
    provider: { kind: 'offline-mock' },
    backend: { kind: 'local', path: 'terraform.tfstate' },
  };
  const outdir = mkdtempSync(join(tmpdir(), 'lambda-efs-plan-'));
  try {
    const result = await synthesize({ outdir, configs: [config], system: appSystem(), onlyBuilt: run.onlyBuilt });
    for (const error of result.skipped) {
      process.stderr.write(`WARNING: ${error.functionName} is left out (not built: ${error.buildCommand}).\n`);
    }
    for (const warning of result.staleEntries) process.stderr.write(`WARNING: ${warning}\n`);
    const stack = result.stacks[0];
    if (stack === undefined) throw new Error('synthesize returned no stack');
    for (const warning of stack.warnings) process.stderr.write(`WARNING: ${warning}\n`);
    const plan = await offlinePlan(stack.directory);
    const total = Object.values(plan.createsByType).reduce((sum, count) => sum + count, 0);
    const width = Math.max(...Object.keys(plan.createsByType).map((type) => type.length));
    process.stdout.write(
      `terraform plan of ${stack.id} (offline; provider from ${plan.pluginDir ?? 'a plain init'}): ${total} to create\n` +
        Object.entries(plan.createsByType)
          .map(([type, count]) => `  ${type.padEnd(width)}  ${count}`)
          .join('\n') +
        `\noutputs: ${plan.outputs.join(', ')}\n` +
        (values.keep ? `kept: ${stack.directory}\n` : ''),
    );
    if (plan.otherActions.length > 0) throw new Error(`unexpected actions:\n${plan.otherActions.join('\n')}`);
  } finally {
    if (!values.keep) rmSync(outdir, { recursive: true, force: true });
  }
}

main().catch(reportFailure);
